package org.jobyard.plugins.arc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jobyard.api.BackendException;
import org.jobyard.api.Capability;
import org.jobyard.api.Command;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitRequest;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.AnswerLoss;
import org.jobyard.testkit.AnswerLosingHttpClient;
import org.jobyard.testkit.BackendConformanceTest;
import org.jobyard.testkit.BackendFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit against the testbed's real A-REX (fork LRMS). The kit's outage and
 * lost-answer cases go through a transport, which an HTTP backend does not use: the outage is
 * replaced here by the same check over HTTP (a CE that refuses connections), and the lost answer
 * goes through the kit's {@link AnswerLoss} hook, with an {@link AnswerLosingHttpClient}.
 */
@Tag("testbed")
class ArcConformanceTest extends BackendConformanceTest {

  @Override
  protected BackendFixture createFixture(Path tempDir) {
    var builder = BackendFixture.builder(new ArcBackendProvider(), new LocalTransport(),
        tempDir.resolve("cluster"));
    ArcTestbed.settings().forEach(builder::setting);
    return builder.capabilities(Capability.BULK_SUBMIT, Capability.STAGING, Capability.STEPS,
        Capability.RESUME, Capability.URL_INPUTS)
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

  /** The kit's lost-answer case: requests reach A-REX, and their answers are dropped. */
  @Override
  protected AnswerLoss answerLoss() throws Exception {
    var http = new AnswerLosingHttpClient(ArcTestbed.httpClient());
    var lossy = ArcTestbed.backend(ArcTestbed.settings(), engineDir.resolve("lossy"), http);
    return AnswerLoss.of(lossy, http::loseAnswers);
  }

  /** A-REX runs jobs as its mapped account (nobody), which cannot write in root's home. */
  @Override
  protected String clusterScratch() throws Exception {
    var out = transport().run(Command.of("sh", "-c",
        "d=$(mktemp -d /var/tmp/.jobyard-kit.XXXXXX) && chmod 1777 \"$d\" && echo \"$d\""));
    assertThat(out.exitCode()).as("mktemp: %s", out.stderr()).isZero();
    return out.stdout().strip();
  }
}
