package org.jobyard.plugins.arc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jobyard.api.BackendException;
import org.jobyard.api.Capability;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.BackendConformanceTest;
import org.jobyard.testkit.BackendFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit against the testbed's real A-REX (fork LRMS). The kit's outage and
 * lost-answer cases go through a transport, which an HTTP backend does not use: they are
 * replaced here by the same checks over HTTP (a CE that refuses connections; a submit whose
 * answer times out).
 */
@Tag("testbed")
class ArcConformanceTest extends BackendConformanceTest {

  @Override
  protected BackendFixture createFixture(Path tempDir) {
    var builder = BackendFixture.builder(new ArcBackendProvider(), new LocalTransport(),
        tempDir.resolve("cluster"));
    ArcTestbed.settings().forEach(builder::setting);
    return builder.capabilities(Capability.BULK_SUBMIT, Capability.STAGING, Capability.STEPS)
        .timeout(Duration.ofSeconds(120)).build();
  }

  @AfterAll
  static void removeTheKitsJobs() {
    ArcTestbed.removeJobs(ArcJobDescription.nameOf("cf-"));
  }

  @Override
  protected JobRef neverSubmitted(JobRef real, SubmitRequest realRequest) {
    // A-REX ids are 54 letters and digits; this one was never handed out
    return new JobRef("ghost-" + real.jobId(), "jobyardNeverSubmitted0000000000000000000000000",
        Map.of(ArcBackend.TAG, "ghost." + realRequest.attempt()));
  }

  @Override
  @Test
  public void anUnavailableClusterIsRetryableAndNeverFailsAJob() throws Exception {
    var real = submit(request("before-outage", spec(step("true")).build()));
    var settings = new HashMap<>(ArcTestbed.settings());
    settings.put("url", "https://127.0.0.1:1/arex"); // nothing listens there
    var down = ArcTestbed.backend(settings, engineDir.resolve("down"));

    try {
      down.submit(List.of(request("outage", spec(step("true")).build())));
      org.assertj.core.api.Assertions.fail("submit to a CE that refuses connections must throw");
    } catch (BackendException e) {
      assertThat(e.isRetryable()).as("submit to an unreachable CE: %s", e).isTrue();
    }
    try {
      var statuses = down.poll(List.of(real));
      assertThat(statuses.get(real.jobId())).isInstanceOf(JobStatus.Unknown.class);
    } catch (BackendException e) {
      assertThat(e.isRetryable()).as("poll of an unreachable CE: %s", e).isTrue();
    }
  }

  @Override
  @Test
  public void aSubmitWhoseAnswerIsLostRunsTheJobOnce() throws Exception {
    var settings = new HashMap<>(ArcTestbed.settings());
    settings.put("timeout", "1ms"); // the request goes out; its answer comes too late
    var lossy = ArcTestbed.backend(settings, engineDir.resolve("lossy"));
    var request = request("lost", spec(step("true")).build());

    SubmitOutcome outcome;
    try {
      outcome = lossy.submit(List.of(request)).getFirst();
    } catch (BackendException e) {
      outcome = new SubmitOutcome.InDoubt(request.jobId(), e.getMessage());
    }
    assertThat(outcome).as("a submit whose answer never came must not be Accepted nor "
        + "(non-retryably) Rejected").satisfiesAnyOf(
            o -> assertThat(o).isInstanceOf(SubmitOutcome.InDoubt.class),
            o -> assertThat(o instanceof SubmitOutcome.Rejected r && r.error().isRetryable())
                .isTrue());
    // the engine's answer to doubt: lookup, and submit again only if nothing is found
    var found = backend().lookup(List.of(request));
    JobRef job = found.get(request.jobId());
    if (job == null) {
      job = submit(request);
    }
    var end = awaitStatus(job, s -> s instanceof JobStatus.Exited, "ended");

    assertThat(end).isInstanceOf(JobStatus.Exited.class);
    assertThat(ArcTestbed.jobsNamed(ArcTestbed.client(), ArcJobDescription.nameOf(request.tag())))
        .as("native jobs carrying the tag %s", request.tag())
        .hasEntrySatisfying(ArcJobDescription.nameOf(request.tag()),
            ids -> assertThat(ids).hasSize(1));
  }
}
