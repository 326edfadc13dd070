package org.jobyard.plugins.slurm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.BackendContext;
import org.jobyard.api.Command;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.api.Settings;
import org.jobyard.api.Transport;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.manager.Cluster;
import org.jobyard.engine.manager.JobManager;
import org.jobyard.engine.store.Database;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreWriter;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * slurmctld stalls (SIGSTOP for 15 s, as under slow state storage or overload) while the engine
 * submits jobs to the testbed's Slurm directly and over SSH. sbatch gives up after MessageTimeout
 * with "Socket timed out on send/recv operation" and slurmctld creates the job anyway when it
 * resumes: every attempt must still be one Slurm job, and every payload must run once.
 */
@Tag("testbed")
class SlurmFreezeTest {
  private static final int JOBS_PER_CLUSTER = 10;
  private static final Duration FREEZE = Duration.ofSeconds(15);

  @TempDir Path home;
  final String run = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
  final LocalTransport local = new LocalTransport();
  Path shared;
  Database db;
  StoreWriter writer;
  JobManager manager;
  Thread writerThread;
  Thread managerThread;
  final List<Cluster> clusters = new ArrayList<>();

  Cluster cluster(String name, Transport transport, Map<String, String> settings)
      throws Exception {
    var backend = new SlurmBackendProvider().create(new BackendContext(name, new Settings(
        "cluster '" + name + "'", settings), transport, home.resolve(name),
        BackendContext.Events.NONE));
    var c = new Cluster(name, "slurm", backend, transport, 0, Duration.ofSeconds(1));
    clusters.add(c);
    return c;
  }

  @AfterEach
  void stop() throws Exception {
    if (manager != null) {
      manager.stop().get(60, TimeUnit.SECONDS);
      managerThread.join(10_000);
      writer.stop();
      writerThread.join(10_000);
      db.close();
    }
    clusters.forEach(Cluster::close);
    if (shared != null) {
      local.run(Command.of("rm", "-rf", "--", shared.toString()));
    }
  }

  private JobSpec payload(String name, String cluster) {
    var base = JobSpec.of(name, "sh", "-c", "echo ran >> \"$1\"", "sh",
        shared.resolve(name).toString());
    return new JobSpec(name, null, null, base.steps(), Map.of(), null, null, null, null, null,
        null, List.of(), List.of(), List.of(cluster), 0, Map.of());
  }

  private int slurmJobsNamed(String tag) throws Exception {
    var out = local.run(Command.of("squeue", "--noheader", "--states=all", "--name=" + tag,
        "--format=%i"));
    return (int) out.stdout().lines().filter(l -> !l.isBlank()).count();
  }

  @Test
  void aStalledSlurmctldDuringSubmissionRunsEveryJobOnceOnBothTransports() throws Exception {
    Testbed.require(Testbed.SLURM);
    var pidFile = Path.of(Testbed.get("DIR"), "run", "slurmctld.pid");
    Assumptions.assumeTrue(Files.isWritable(pidFile), "needs root to stop slurmctld");
    var ssh = SlurmOverSshConformanceTest.sshTransport();
    shared = Files.createTempDirectory(Path.of("/var/tmp"), "jobyard-freeze-" + run);
    // the SSH cluster's jobs run as the testbed's user and write their traces here too
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
    var partition = Testbed.find("SLURM_PARTITION").orElse("debug");
    var direct = cluster("slurm", local, Map.of("partition", partition,
        "workdir", shared.resolve("work").toString()));
    var overSsh = cluster("slurm-ssh", ssh, Map.of("partition", partition,
        "workdir", ".jobyard/slurm-freeze"));

    var config = ConfigLoader.defaults(home);
    db = new Database(config.database());
    var store = new JobStore(db);
    writer = new StoreWriter(store);
    manager = new JobManager(store, writer, new EngineConfig.Tuning(Duration.ofSeconds(1), 50,
        Duration.ofMinutes(5), Duration.ofSeconds(1)), List.of(direct, overSsh),
        List.of("slurm"));
    writerThread = Thread.ofPlatform().start(writer);
    managerThread = Thread.ofPlatform().start(manager);
    await().until(manager::isReady);

    var specs = new ArrayList<JobSpec>();
    for (int i = 0; i < JOBS_PER_CLUSTER; i++) {
      specs.add(payload("freeze-" + run + "-d" + i, "slurm"));
      specs.add(payload("freeze-" + run + "-s" + i, "slurm-ssh"));
    }

    long pid = Long.parseLong(Files.readString(pidFile).strip().split("\\s+")[0]);
    var ctld = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("slurmctld " + pid
        + " from " + pidFile + " is not running"));
    List<String> ids;
    signal("STOP", ctld.pid());
    long frozen = System.nanoTime();
    try {
      ids = manager.submit("root", specs).get(30, TimeUnit.SECONDS);
      // the submissions reach sbatch and hang on the stalled controller
      await().atMost(FREEZE.plusSeconds(5)).until(() -> System.nanoTime() - frozen >= FREEZE.toNanos());
    } finally {
      signal("CONT", ctld.pid());
      System.out.printf("slurmctld was stopped for %d s%n",
          Duration.ofNanos(System.nanoTime() - frozen).toSeconds());
    }

    await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).until(() ->
        ids.stream().allMatch(id -> store.job(id).orElseThrow().state().isTerminal()));
    for (int i = 0; i < ids.size(); i++) {
      var id = ids.get(i);
      var row = store.job(id).orElseThrow();
      assertThat(row.state()).as("%s (%s): %s", id, row.name(), row.reason())
          .isEqualTo(JobState.SUCCEEDED);
      assertThat(store.attempts(id)).as("attempts of %s", row.name()).singleElement();
      assertThat(slurmJobsNamed(id + ".1")).as("Slurm jobs tagged %s.1 (%s)", id, row.name())
          .isEqualTo(1);
      assertThat(Files.readAllLines(shared.resolve(row.name()))).as("runs of %s's payload",
          row.name()).containsExactly("ran");
    }
  }

  private static void signal(String signal, long pid) throws Exception {
    var p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("kill -%s %d", signal, pid).isZero();
  }
}
