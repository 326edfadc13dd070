package org.jobyard.plugins.slurm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.BackendContext;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.api.Settings;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.drain.Drains;
import org.jobyard.engine.manager.Cluster;
import org.jobyard.engine.manager.JobManager;
import org.jobyard.engine.store.Database;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreWriter;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drain against the real Slurm: a drained cluster's running job is tracked to its end, a job
 * that lists another cluster goes there, one that lists only the drained cluster waits (also in
 * the next engine, which reads the drain back) and runs once the cluster is undrained.
 */
@Tag("testbed")
class SlurmDrainTest {
  @TempDir
  Path home;
  final LocalTransport transport = new LocalTransport();
  Database db;
  StoreWriter writer;
  JobManager manager;
  Thread managerThread;
  Thread writerThread;
  JobStore store;

  @AfterEach
  void stop() throws Exception {
    if (manager != null) {
      manager.stop().get(30, TimeUnit.SECONDS);
      managerThread.join(10_000);
      writer.stop();
      writerThread.join(10_000);
      db.close();
      manager = null;
    }
  }

  Cluster slurm(String name) throws Exception {
    var settings = Map.of("partition", Testbed.find("SLURM_PARTITION").orElse("debug"),
        "workdir", home.resolve("work-" + name).toString());
    var backend = new SlurmBackendProvider().create(new BackendContext(name, new Settings(
        "cluster '" + name + "'", settings), transport, home.resolve("cluster-" + name),
        BackendContext.Events.NONE));
    return new Cluster(name, "slurm", backend, transport, 0, Duration.ofSeconds(1));
  }

  Drains start() throws Exception {
    var drains = new Drains(home.resolve("drained.json"), Map.of(), Clock.systemUTC());
    db = new Database(ConfigLoader.defaults(home).database());
    store = new JobStore(db);
    writer = new StoreWriter(store);
    manager = new JobManager(store, writer, new EngineConfig.Tuning(Duration.ofSeconds(1), 50,
        Duration.ofMinutes(5), Duration.ofSeconds(1)), List.of(slurm("hpc"), slurm("spare")),
        List.of("hpc"), drains);
    writerThread = Thread.ofPlatform().start(writer);
    managerThread = Thread.ofPlatform().start(manager);
    await().until(manager::isReady);
    return drains;
  }

  static JobSpec on(String name, List<String> clusters, String... command) {
    var spec = JobSpec.of(name, command[0], java.util.Arrays.copyOfRange(command, 1,
        command.length));
    return new JobSpec(spec.name(), null, null, spec.steps(), spec.environment(), null, null,
        null, null, null, null, List.of(), List.of(), clusters, 0, Map.of());
  }

  JobState state(String id) {
    return store.job(id).orElseThrow().state();
  }

  @Test
  void aDrainedSlurmClusterFinishesItsJobSendsOthersElsewhereAndHoldsTheRestUntilUndrained()
      throws Exception {
    Testbed.require(Testbed.SLURM);
    var drains = start();
    var user = System.getProperty("user.name");
    var run = Long.toHexString(System.nanoTime());
    var running = manager.submit(user, List.of(on("running-" + run, List.of("hpc"),
        "/bin/sleep", "4"))).get(10, TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(60)).until(() -> state(running) == JobState.RUNNING);

    drains.drain("hpc", "ops", "testing drain");
    var ids = manager.submit(user, List.of(on("elsewhere-" + run, List.of("hpc", "spare"),
        "/bin/true"), on("waits-" + run, List.of("hpc"), "/bin/true")))
        .get(10, TimeUnit.SECONDS);
    var elsewhere = ids.get(0);
    var waits = ids.get(1);
    await().atMost(Duration.ofSeconds(60)).until(() -> state(elsewhere) == JobState.SUCCEEDED
        && state(running) == JobState.SUCCEEDED);
    assertThat(store.attempts(elsewhere)).singleElement()
        .satisfies(a -> assertThat(a.cluster()).isEqualTo("spare"));
    assertThat(store.attempts(running)).singleElement()
        .satisfies(a -> assertThat(a.exitCode()).isZero());
    assertThat(state(waits)).isEqualTo(JobState.QUEUED);
    assertThat(store.attempts(waits)).as("never submitted while drained").isEmpty();

    stop(); // the next engine reads the drain back
    drains = start();
    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(20))
        .until(() -> state(waits) == JobState.QUEUED);
    drains.undrain("hpc", "ops");
    await().atMost(Duration.ofSeconds(60)).until(() -> state(waits) == JobState.SUCCEEDED);
    assertThat(store.attempts(waits)).singleElement()
        .satisfies(a -> assertThat(a.cluster()).isEqualTo("hpc"));
  }
}
