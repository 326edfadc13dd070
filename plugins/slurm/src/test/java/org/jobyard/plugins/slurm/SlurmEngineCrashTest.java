package org.jobyard.plugins.slurm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.Command;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.api.Settings;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.manager.JobManager;
import org.jobyard.engine.testing.RunningEngine;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.DiesAfterSubmit;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine dies right after sbatch returned and before it recorded the job id: the restarted
 * engine must find the job in the real Slurm by its tag and adopt it, never submit it again.
 */
@Tag("testbed")
class SlurmEngineCrashTest {
  @TempDir
  Path home;
  final LocalTransport transport = new LocalTransport();
  final CountDownLatch never = new CountDownLatch(1);
  DiesAfterSubmit dying;
  RunningEngine engine;

  Backend slurm() throws Exception {
    return slurm(transport);
  }

  Backend slurm(org.jobyard.api.Transport through) throws Exception {
    var settings = Map.of("partition", Testbed.find("SLURM_PARTITION").orElse("debug"),
        "workdir", home.resolve("work").toString());
    return new SlurmBackendProvider().create(new BackendContext("slurm", new Settings(
        "cluster 'slurm'", settings), through, home.resolve("cluster"),
        BackendContext.Events.NONE));
  }

  /** Where the engine keeps its jobs: embedded H2 here, PostgreSQL in a subclass. */
  EngineConfig.Database database() {
    return RunningEngine.h2(home);
  }

  /**
   * Runs every command, but the submit script's answer never comes back: sbatch ran, and the
   * engine dies while it waits for the answer (the kill between a submit command and its answer).
   */
  final class DiesWithTheAnswer extends org.jobyard.testkit.CountingTransport {
    final CountDownLatch sbatchRan = new CountDownLatch(1);

    DiesWithTheAnswer() {
      super(transport);
    }

    @Override
    public org.jobyard.api.CommandResult run(Command command)
        throws org.jobyard.api.TransportException {
      var result = super.run(command);
      if (new String(command.stdin(), java.nio.charset.StandardCharsets.UTF_8)
          .contains("sbatch")) {
        sbatchRan.countDown();
        try {
          never.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        throw new org.jobyard.api.TransportException("engine gone", true);
      }
      return result;
    }
  }

  JobManager start(Backend backend) {
    return start(backend, transport);
  }

  JobManager start(Backend backend, org.jobyard.api.Transport through) {
    engine = RunningEngine.start(database(), "slurm", backend, through);
    return engine.manager();
  }

  @AfterEach
  void release() throws Exception {
    never.countDown();
    if (dying != null) {
      dying.release();
    }
    if (engine != null) {
      engine.stop();
    }
  }

  int jobsNamed(String tag) throws Exception {
    var out = transport.run(Command.of("squeue", "-h", "-t", "all", "--name=" + tag, "-o", "%i"));
    return (int) out.stdout().lines().filter(l -> !l.isBlank()).count();
  }

  @Test
  void aJobSubmittedJustBeforeTheEngineDiedIsAdoptedNotSubmittedAgain() throws Exception {
    Testbed.require(Testbed.SLURM);
    dying = new DiesAfterSubmit(slurm());
    var manager = start(dying);
    var spec = JobSpec.of("crash-" + Long.toHexString(System.nanoTime()), "/bin/sh", "-c",
        "sleep 3; exit 4");
    var id = manager.submit(RunningEngine.user(), List.of(spec)).get(10, TimeUnit.SECONDS)
        .getFirst();
    var tag = id + ".1";
    await().atMost(Duration.ofSeconds(60)).until(() -> jobsNamed(tag) == 1);
    engine.crash();

    restartAndExpectOneJobThatExited(id, 4);
  }

  /** A new engine on the same store: the job is adopted, ends with its code, one Slurm job. */
  void restartAndExpectOneJobThatExited(String id, int exitCode) throws Exception {
    start(slurm());
    var store = engine.store();
    await().atMost(Duration.ofMinutes(2)).until(() ->
        store.job(id).orElseThrow().state() == JobState.FAILED);
    assertThat(store.job(id).orElseThrow().exitCode()).isEqualTo(exitCode);
    assertThat(jobsNamed(id + ".1")).as("jobs in Slurm carrying the attempt's tag").isEqualTo(1);
    assertThat(store.attempts(id)).singleElement()
        .satisfies(a -> assertThat(a.nativeId()).isNotBlank());
  }

  @Test
  void anEngineKilledBetweenSbatchAndItsAnswerFindsTheJobAndRunsItOnce() throws Exception {
    Testbed.require(Testbed.SLURM);
    var dying = new DiesWithTheAnswer();
    var manager = start(slurm(dying), dying);
    var runs = home.resolve("runs");
    var spec = JobSpec.of("answer-" + Long.toHexString(System.nanoTime()), "/bin/sh", "-c",
        "echo ran >> \"$1\"; exit 5", "sh", runs.toString());
    var id = manager.submit(RunningEngine.user(), List.of(spec)).get(10, TimeUnit.SECONDS)
        .getFirst();
    assertThat(dying.sbatchRan.await(60, TimeUnit.SECONDS)).as("the submit script ran").isTrue();
    engine.crash(); // SIGKILL-like: the answer of the submit command is never seen

    restartAndExpectOneJobThatExited(id, 5);
    assertThat(java.nio.file.Files.readAllLines(runs)).as("runs of the payload")
        .containsExactly("ran");
  }
}
