package org.jobyard.plugins.arc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.api.JobStatus;
import org.jobyard.engine.testing.RunningEngine;
import org.jobyard.engine.transport.local.LocalTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The user's restart of a job that failed on the real A-REX, through the backend's {@code resume}
 * (A-REX's {@code restart}): a job that did not fail is refused naming its state, and one A-REX
 * would not really run again gets a new attempt with the reason.
 */
@Tag("testbed")
class ArcResumeTest {
  private static final String PREFIX = ArcJobDescription.nameOf("");
  private static final List<String> IDS = new java.util.concurrent.CopyOnWriteArrayList<>();
  @TempDir Path home;
  RunningEngine engine;

  @AfterAll
  static void removeJobs() {
    IDS.forEach(id -> ArcTestbed.removeJobs(PREFIX + id));
  }

  @AfterEach
  void stop() throws Exception {
    if (engine != null) {
      engine.stop();
    }
  }

  /**
   * A job whose script failed (in the batch system, INLRMS) is one A-REX cannot really re-run:
   * it keeps the first run's LRMS id and skips the submission (seen on 6.17, the job then "dies
   * unexpectedly"). The backend refuses it, saying so, and the engine's restart falls back to a
   * new attempt, which runs now that the marker exists.
   */
  @Test
  void aJobWhoseScriptFailedOnTheCeIsRestartedAsANewAttemptSayingWhyNotInPlace()
      throws Exception {
    // the job's own condition: it fails while a marker file is missing (the job runs as the
    // CE's mapped user, so the folder is readable by all)
    var shared = Files.createTempDirectory(Path.of("/var/tmp"), "jobyard-arc-resume-");
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
    var marker = shared.resolve("ready");
    try {
      engine = RunningEngine.start(RunningEngine.h2(home), "arc",
          ArcTestbed.backend(ArcTestbed.settings(), home.resolve("cluster")),
          new LocalTransport());
      var store = engine.store();
      var id = engine.manager().submit(RunningEngine.user(), List.of(JobSpec.of("resume",
          "/bin/sh", "-c", "test -e \"$1\" || exit 3", "sh", marker.toString())))
          .get(60, TimeUnit.SECONDS).getFirst();
      IDS.add(id);
      await().atMost(Duration.ofMinutes(3)).until(() ->
          store.job(id).orElseThrow().state() == JobState.FAILED);
      assertThat(store.job(id).orElseThrow().exitCode()).as("the first run's exit").isEqualTo(3);
      var failedOn = store.attempts(id).getLast().nativeId();

      Files.writeString(marker, "go");
      engine.manager().restart(store.job(id).orElseThrow()).get(60, TimeUnit.SECONDS);
      await().atMost(Duration.ofMinutes(4)).until(() ->
          store.job(id).orElseThrow().state().isTerminal());

      var job = store.job(id).orElseThrow();
      assertThat(job.state()).as("the restarted job (%s)", job.reason())
          .isEqualTo(JobState.SUCCEEDED);
      var attempts = store.attempts(id);
      assertThat(attempts).as("attempts").hasSize(2);
      assertThat(attempts.getFirst().nativeId()).isEqualTo(failedOn);
      assertThat(attempts.getFirst().reason()).as("why the first attempt did not go on")
          .contains("did not resume its failed attempt").contains("failed in INLRMS")
          .contains("re-runs only jobs that failed staging");
      assertThat(attempts.getLast().nativeId()).as("the new attempt's CE job")
          .isNotEqualTo(failedOn);
      assertThat(attempts.getLast().exitCode()).isZero();
    } finally {
      Files.deleteIfExists(marker);
      Files.deleteIfExists(shared);
    }
  }

  @Test
  void restartingOnTheCeAJobThatDidNotFailIsRefusedNamingItsState() throws Exception {
    var backend = ArcTestbed.backend(ArcTestbed.settings(), home.resolve("cluster"));
    var request = ArcBackendTest.request("resume-done", ArcBackendTest.spec("done",
        List.of(ArcBackendTest.step("true")), List.of(), List.of(), null));
    IDS.add(request.tag());
    var job = ArcBackendTest.accepted(backend.submit(List.of(request))).getFirst();
    assertThat(ArcBackendTest.awaitEnd(backend, job)).isInstanceOf(JobStatus.Exited.class);

    assertThatThrownBy(() -> backend.resume(List.of(job)))
        .isInstanceOfSatisfying(BackendException.class, e -> {
          assertThat(e.isRetryable()).as("a refusal, for good").isFalse();
          assertThat(e.getMessage()).contains(job.nativeId() + " is FINISHED")
              .contains("only FAILED jobs");
        });
    assertThat(backend.poll(List.of(job)).get(job.jobId())).as("the job, after the refusal")
        .isEqualTo(new JobStatus.Exited(0, "FINISHED", null));
  }
}
