package org.jobyard.plugins.slurm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.BackendContext;
import org.jobyard.api.Command;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.api.Settings;
import org.jobyard.engine.config.ClusterConfig;
import org.jobyard.engine.manager.JobManager;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.testing.RunningEngine;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * held_timeout against the real Slurm: a job the Slurm admin holds ({@code scontrol hold} as
 * root) fails once the timeout is over, with Slurm's hold reason; a job the user paused (held
 * through the engine) never times out.
 */
@Tag("testbed")
class SlurmHeldTimeoutTest {
  static final Duration HELD_TIMEOUT = Duration.ofSeconds(3);
  @TempDir
  Path home;
  final LocalTransport transport = new LocalTransport();
  RunningEngine engine;
  JobManager manager;

  @AfterEach
  void stop() throws Exception {
    if (engine != null) {
      engine.stop();
    }
  }

  JobStore start() throws Exception {
    var settings = Map.of("partition", Testbed.find("SLURM_PARTITION").orElse("debug"),
        "workdir", home.resolve("work").toString());
    var backend = new SlurmBackendProvider().create(new BackendContext("slurm", new Settings(
        "cluster 'slurm'", settings), transport, home.resolve("cluster"),
        BackendContext.Events.NONE));
    engine = RunningEngine.start(RunningEngine.h2(home), RunningEngine.TUNING, List.of(
        RunningEngine.cluster("slurm", backend, transport,
            new ClusterConfig.Policy(HELD_TIMEOUT, 0, 0, false), Duration.ofSeconds(1))));
    manager = engine.manager();
    return engine.store();
  }

  /** A job that stays pending for an hour (its start time is in the future). */
  static JobSpec later(String name) {
    var spec = JobSpec.of(name, "/bin/true");
    return new JobSpec(spec.name(), null, null, spec.steps(), spec.environment(), null, null,
        null, null, null, null, List.of(), List.of(), List.of(), 0,
        Map.of("slurm", Map.of("begin", "now+3600")));
  }

  @Test
  void aJobTheSlurmAdminHoldsFailsAfterHeldTimeoutWhileAPausedOneStaysPaused()
      throws Exception {
    Testbed.require(Testbed.SLURM);
    var store = start();
    var run = Long.toHexString(System.nanoTime());
    var ids = manager.submit(System.getProperty("user.name"), List.of(later("held-" + run),
        later("paused-" + run))).get(10, TimeUnit.SECONDS);
    var held = ids.get(0);
    var paused = ids.get(1);
    await().atMost(Duration.ofSeconds(60)).until(() -> ids.stream()
        .allMatch(id -> store.job(id).orElseThrow().state() == JobState.PENDING));
    manager.pause(List.of(paused)).get(10, TimeUnit.SECONDS);
    var nativeId = store.attempts(held).getFirst().nativeId();
    var hold = transport.run(Command.of("scontrol", "hold", nativeId));
    assertThat(hold.exitCode()).as("scontrol hold: %s", hold.stderr()).isZero();

    await().atMost(Duration.ofSeconds(60)).until(() ->
        store.job(held).orElseThrow().state() == JobState.FAILED);
    assertThat(store.job(held).orElseThrow().reason())
        .contains("held by cluster 'slurm' for longer than its held_timeout (3s)")
        .contains("JobHeld");
    // the abandoned attempt is cancelled in Slurm, not left held for ever
    await().atMost(Duration.ofSeconds(60)).until(() -> store.outbox().isEmpty());
    var state = transport.run(Command.of("squeue", "-h", "-j", nativeId, "-t", "all", "-o",
        "%T")).stdout().strip();
    assertThat(state).isIn("CANCELLED", "");

    assertThat(store.job(paused).orElseThrow().state()).isEqualTo(JobState.PAUSED);
    await().during(HELD_TIMEOUT.multipliedBy(2)).atMost(Duration.ofSeconds(30))
        .until(() -> store.job(paused).orElseThrow().state() == JobState.PAUSED);
    manager.cancel(List.of(paused)).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(60)).until(() ->
        store.job(paused).orElseThrow().state() == JobState.CANCELLED);
  }
}
