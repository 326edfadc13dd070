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
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit against a real A-REX of the testbed (fork LRMS), whose settings a subclass
 * names: {@link ArcConformanceTest} (6.17) and {@link Arc7ConformanceTest} (7.0). The kit's outage and
 * lost-answer cases go through a transport, which an HTTP backend does not use: the outage is
 * replaced here by the same check over HTTP (a CE that refuses connections), and the lost answer
 * goes through the kit's {@link AnswerLoss} hook, with an {@link AnswerLosingHttpClient}.
 */
@Tag("testbed")
abstract class ArcKit extends BackendConformanceTest {

  /** The cluster settings of the CE under test (skips, or fails under CI, without it). */
  protected abstract Map<String, String> settings();

  @Override
  protected BackendFixture createFixture(Path tempDir) {
    var builder = BackendFixture.builder(new ArcBackendProvider(), new LocalTransport(),
        tempDir.resolve("cluster"));
    settings().forEach(builder::setting);
    // 240 s: on a loaded 2-core machine A-REX's submit-fork-job alone was seen taking 97 s, and
    // 6.17 notices some ends only at its wake-up period (180 s by default)
    return builder.capabilities(Capability.BULK_SUBMIT, Capability.STAGING, Capability.STEPS,
        Capability.RESUME, Capability.URL_INPUTS)
        .timeout(Duration.ofSeconds(240)).build();
  }

  @Override
  protected JobRef neverSubmitted(JobRef real, SubmitRequest realRequest) {
    // A-REX ids are letters and digits (6.17: 54, 7.0: 12); this one was never handed out
    return new JobRef("ghost-" + real.jobId(), "jobyardNeverSubmitted0000000000000000000000000",
        Map.of(ArcBackend.TAG, "ghost." + realRequest.attempt()));
  }

  @Override
  @Test
  public void anUnavailableClusterIsRetryableAndNeverFailsAJob() throws Exception {
    var real = submit(request("before-outage", spec(step("true")).build()));
    var settings = new HashMap<>(settings());
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
    var http = new AnswerLosingHttpClient(ArcTestbed.httpClient(settings()));
    var lossy = ArcTestbed.backend(settings(), engineDir.resolve("lossy"), http);
    return AnswerLoss.of(lossy, http::loseAnswers);
  }

  /** Where the CE's jobs and this host see the same files: {@code /var/tmp} by default. */
  protected String sharedFolder() {
    return "/var/tmp";
  }

  /** A-REX runs jobs as its mapped account (nobody), which cannot write in root's home. */
  @Override
  protected String clusterScratch() throws Exception {
    var out = transport().run(Command.of("sh", "-c",
        "d=$(mktemp -d \"$1/.jobyard-kit.XXXXXX\") && chmod 1777 \"$d\" && echo \"$d\"", "sh",
        sharedFolder()));
    assertThat(out.exitCode()).as("mktemp: %s", out.stderr()).isZero();
    return out.stdout().strip();
  }
}
