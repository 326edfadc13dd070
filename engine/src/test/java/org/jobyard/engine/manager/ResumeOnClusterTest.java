package org.jobyard.engine.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.BackendException;
import org.jobyard.api.Capability;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.engine.testing.RunningEngine;
import org.jobyard.engine.transport.local.LocalTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The user's restart of a failed job on a cluster that declares {@link Capability#RESUME}: the
 * failed attempt goes on, on the same native job; a cluster that will not resume it gets a new
 * attempt instead. (Against the real A-REX: ArcResumeTest, ArcStagingRerunTest.) Seen red with
 * the fix undone: {@code tryResume} answering false fails the first and third test (a new
 * attempt, no resume call); the job put back in the cluster's live set before the cluster took
 * the request up fails the first and third too (the old failure is polled again and ends it).
 */
class ResumeOnClusterTest {
  @TempDir Path home;
  final FakeBackend backend = new FakeBackend();
  RunningEngine engine;

  @AfterEach
  void stop() throws Exception {
    if (engine != null) {
      engine.stop();
    }
  }

  private String failedJob(Set<Capability> capabilities) throws Exception {
    backend.capabilities = capabilities;
    engine = RunningEngine.start(RunningEngine.h2(home), "fake", backend, new LocalTransport());
    var id = engine.manager().submit("alice", List.of(JobSpec.of("x", "fail")))
        .get(30, TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(30)).until(() -> state(id) == JobState.FAILED);
    return id;
  }

  private JobState state(String id) {
    return engine.store().job(id).orElseThrow().state();
  }

  @Test
  void aFailedJobOnAClusterThatResumesGoesOnOnTheSameNativeJob() throws Exception {
    var id = failedJob(Set.of(Capability.BULK_SUBMIT, Capability.RESUME));
    var failedOn = engine.store().attempts(id).getLast().nativeId();

    engine.manager().restart(engine.store().job(id).orElseThrow()).get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> state(id) == JobState.SUCCEEDED);

    assertThat(backend.resumed).as("resume calls").containsExactly(failedOn);
    assertThat(backend.submits.get()).as("native jobs submitted").isEqualTo(1);
    assertThat(engine.store().attempts(id)).singleElement().satisfies(a -> {
      assertThat(a.nativeId()).isEqualTo(failedOn);
      assertThat(a.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(a.exitCode()).isZero();
    });
  }

  @Test
  void aFailedJobOnAClusterWithoutResumeRestartsAsANewAttempt() throws Exception {
    var id = failedJob(Set.of(Capability.BULK_SUBMIT));
    backend.jobs.put(id + ".2", "ok");

    engine.manager().restart(engine.store().job(id).orElseThrow()).get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> state(id) == JobState.SUCCEEDED);

    assertThat(backend.resumed).isEmpty();
    assertThat(engine.store().attempts(id)).hasSize(2);
  }

  @Test
  void aClusterThatWillNotResumeTheJobGetsANewAttemptAndItsReasonIsKept() throws Exception {
    var id = failedJob(Set.of(Capability.BULK_SUBMIT, Capability.RESUME));
    backend.resumeRefusal = new BackendException("the CE restarts only FAILED jobs, and X is "
        + "WIPED", false);
    backend.jobs.put(id + ".2", "ok");

    engine.manager().restart(engine.store().job(id).orElseThrow()).get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> state(id) == JobState.SUCCEEDED);

    var attempts = engine.store().attempts(id);
    assertThat(attempts).hasSize(2);
    assertThat(attempts.getFirst().state()).isEqualTo(JobState.FAILED);
    assertThat(attempts.getFirst().reason()).contains("did not resume its failed attempt")
        .contains("X is WIPED");
    assertThat(attempts.getLast().state()).isEqualTo(JobState.SUCCEEDED);
  }
}
