package org.jobyard.plugins.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.BackendContext;
import org.jobyard.api.Command;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.api.Settings;
import org.jobyard.engine.config.ClusterConfig;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.manager.JobManager;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.testing.RunningEngine;
import org.jobyard.engine.transport.local.LocalTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job manager's per-cluster rules with real local processes. */
class LocalJobsUnderTheManagerTest {
  static final Duration LOST_AFTER = Duration.ofSeconds(3);
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

  JobStore start(ClusterConfig.Policy policy) throws Exception {
    var backend = new LocalBackendProvider().create(new BackendContext("local", new Settings(
        "cluster 'local'", Map.of("slots", "20", "kill-grace", "1s")), transport,
        home.resolve("cluster"), BackendContext.Events.NONE));
    engine = RunningEngine.start(RunningEngine.h2(home), new EngineConfig.Tuning(
        Duration.ofMillis(300), 50, LOST_AFTER, Duration.ofMillis(500)), List.of(
        RunningEngine.cluster("local", backend, transport, policy, Duration.ofMillis(300))));
    manager = engine.manager();
    return engine.store();
  }

  @Test
  void aJobWhoseProcessGroupIsKilledFromOutsideEndsFailedWithinLostAfter() throws Exception {
    var store = start(ClusterConfig.Policy.DEFAULT);
    var id = manager.submit("alice", List.of(JobSpec.of("victim", "sleep", "300")))
        .get(10, TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(30)).until(() ->
        store.job(id).orElseThrow().state() == JobState.RUNNING);
    // the job's folder is named by its tag, the attempt's native id; its pid file names the job's
    // process (the leader of its group) and the runner that records its end
    var pidFile = home.resolve("cluster").resolve(store.attempts(id).getFirst().nativeId())
        .resolve("pid");
    var fields = Files.readString(pidFile).strip().split("\\s+");

    // SIGKILL the runner, then the job's whole group: nothing records an exit code
    var killRunner = transport.run(Command.of("kill", "-KILL", fields[2]));
    assertThat(killRunner.exitCode()).as("kill: %s", killRunner.stderr()).isZero();
    var kill = transport.run(Command.of("kill", "-KILL", "--", "-" + fields[0]));
    assertThat(kill.exitCode()).as("kill: %s", kill.stderr()).isZero();
    var killedAt = System.nanoTime();

    await().atMost(Duration.ofSeconds(60)).until(() ->
        store.job(id).orElseThrow().state() == JobState.FAILED);
    assertThat(Duration.ofNanos(System.nanoTime() - killedAt)).isLessThan(LOST_AFTER
        .plusSeconds(10));
    var job = store.job(id).orElseThrow();
    assertThat(job.exitCode()).isNull();
    assertThat(job.reason()).contains("without recording an exit code");
  }

  @Test
  void aClusterWithSubmitRateFiveNeverStartsJobsFasterThanThat() throws Exception {
    var store = start(new ClusterConfig.Policy(null, 5, 0, false));
    // the runner first: a Java runner's JVM takes a second or two to start, and jobs handed over
    // meanwhile would start together when it is up (the pace is the engine's, not the runner's)
    var first = manager.submit("alice", List.of(JobSpec.of("warm-up", "true")))
        .get(10, TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(60)).until(() ->
        store.job(first).orElseThrow().state() == JobState.SUCCEEDED);
    var stamps = home.resolve("stamps");
    Files.createDirectories(stamps);
    var specs = new ArrayList<JobSpec>();
    for (int i = 0; i < 12; i++) {
      // each job notes when it started, in nanoseconds of the machine's clock
      specs.add(JobSpec.of("paced-" + i, "sh", "-c", "date +%s%N > " + stamps.resolve("j" + i)));
    }
    manager.submit("alice", specs).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      try (var files = Files.list(stamps)) {
        return files.filter(f -> fileHasLine(f)).count() == 12;
      }
    });
    var started = new ArrayList<Long>();
    try (var files = Files.list(stamps)) {
      for (var f : files.toList()) {
        started.add(Long.parseLong(Files.readString(f).strip()));
      }
    }
    started.sort(null);
    // 12 jobs at 5 a second: the first and last start at least ~2 s apart, and no second holds
    // more than its 5 (plus one: a job's start lags its submission by a little, unevenly)
    assertThat(Duration.ofNanos(started.getLast() - started.getFirst()))
        .isGreaterThan(Duration.ofMillis(1_800));
    for (int i = 0; i < started.size(); i++) {
      for (int j = i + 1; j < started.size(); j++) {
        var seconds = (started.get(j) - started.get(i)) / 1e9;
        assertThat(j - i).as("jobs %d..%d started within %.3fs", i, j, seconds)
            .isLessThanOrEqualTo((int) Math.floor(seconds * 5 + 1.001) + 1);
      }
    }
  }

  private static boolean fileHasLine(Path f) {
    try {
      return Files.readString(f).endsWith("\n");
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
