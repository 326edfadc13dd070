package org.jobyard.plugins.arc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jobyard.plugins.arc.ArcBackendTest.accepted;
import static org.jobyard.plugins.arc.ArcBackendTest.awaitEnd;
import static org.jobyard.plugins.arc.ArcBackendTest.request;
import static org.jobyard.plugins.arc.ArcBackendTest.spec;
import static org.jobyard.plugins.arc.ArcBackendTest.step;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobStatus;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A-REX stopped and started again with jobs on it (about 90 s of the testbed's own stop and
 * start): while it is away the cluster is unavailable, never a failed job; afterwards an ended
 * job keeps its end and a job that waited for its inputs runs. The only test that restarts the shared A-REX; it always starts it again.
 */
@Tag("testbed")
class ArcRestartTest {
  @TempDir Path dir;

  @org.junit.jupiter.api.AfterAll
  static void removeJobs() {
    ArcTestbed.removeJobs(ArcJobDescription.nameOf(ArcBackendTest.RUN + "-restart"));
  }

  @Test
  void jobsInFlightSurviveAnArexRestartWithoutFalseFailures() throws Exception {
    var settings = ArcTestbed.settings();
    Testbed.requireThat(Testbed.repository().isPresent(), "the testbed script is needed to "
        + "restart A-REX");
    var backend = ArcTestbed.backend(settings, dir.resolve("cluster"));
    var done = accepted(backend.submit(List.of(request("restart-done", spec("a",
        List.of(step("true")), List.of(), List.of(), null))))).getFirst();
    awaitEnd(backend, done);
    // a job A-REX holds in PREPARING across the restart (its inputs not sent yet); a job running
    // in the fork LRMS would die with A-REX's process group, a real failure the CE reports
    var waiting = request("restart-waiting", spec("b", List.of(step("sh", "-c", "exit 5")),
        List.of(), List.of(), null));
    backend.client().submit(ArcJobDescription.bulk(List.of(
        ArcJobDescription.of(waiting, null, null))));
    var fresh = ArcTestbed.backend(settings, dir.resolve("cluster"));
    try {
      testbed("down");
      try {
        fresh.poll(List.of(done)).values().forEach(s -> assertThat(s)
            .as("a job while A-REX is down").isInstanceOf(JobStatus.Unknown.class));
      } catch (BackendException e) {
        assertThat(e.isRetryable()).as("poll while A-REX is down: %s", e).isTrue();
      }
    } finally {
      testbed("up");
    }

    assertThat(fresh.poll(List.of(done)).get(done.jobId())).as("the job that ended before the "
        + "restart, seen by a backend that never saw it end")
        .isEqualTo(new JobStatus.Exited(0, "FINISHED", null));
    var found = fresh.lookup(List.of(waiting)).get(waiting.jobId());
    assertThat(found).as("the waiting job, found after the restart").isNotNull();
    assertThat(awaitEnd(fresh, found)).isInstanceOfSatisfying(JobStatus.Exited.class,
        e -> assertThat(e.exitCode()).isEqualTo(5));
  }

  private static void testbed(String action) throws Exception {
    var script = Testbed.repository().orElseThrow().resolve("testbed/testbed");
    var p = new ProcessBuilder(script.toString(), action, "arc").redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    assertThat(p.waitFor(180, TimeUnit.SECONDS)).as("testbed %s arc finished", action).isTrue();
    assertThat(p.exitValue()).as("testbed %s arc", action).isZero();
  }
}
