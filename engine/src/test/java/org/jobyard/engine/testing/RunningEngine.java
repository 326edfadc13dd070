package org.jobyard.engine.testing;

import static java.util.Objects.requireNonNull;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.Backend;
import org.jobyard.api.Transport;
import org.jobyard.engine.config.ClusterConfig;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.manager.Cluster;
import org.jobyard.engine.manager.JobManager;
import org.jobyard.engine.store.Database;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreWriter;

/**
 * An engine's core (store, store writer, job manager on their own threads) started on a store for
 * a test of a backend under the manager: {@link #crash} stops it as a SIGKILL would (its threads
 * end mid-call, nothing is finished in order), {@link #stop} as a SIGTERM does; a new one started
 * on the same store is the engine after a restart. Shipped in the engine's test jar for the
 * plugins' tests.
 */
public final class RunningEngine implements AutoCloseable {
  /** Polls each second; a job missing from listings is lost after five minutes. */
  public static final EngineConfig.Tuning TUNING = new EngineConfig.Tuning(Duration.ofSeconds(1),
      50, Duration.ofMinutes(5), Duration.ofSeconds(1));

  private final Database db;
  private final JobStore store;
  private final StoreWriter writer;
  private final JobManager manager;
  private final Thread writerThread;
  private final Thread managerThread;
  private boolean running = true;

  private RunningEngine(EngineConfig.Database database, EngineConfig.Tuning tuning,
      List<Cluster> clusters) {
    db = new Database(requireNonNull(database, "database is null"));
    store = new JobStore(db);
    writer = new StoreWriter(store);
    manager = new JobManager(store, writer, tuning, clusters,
        clusters.stream().map(Cluster::name).toList());
    writerThread = Thread.ofPlatform().name("test-store-writer").start(writer);
    managerThread = Thread.ofPlatform().name("test-job-manager").start(manager);
    await().atMost(Duration.ofSeconds(60)).until(manager::isReady);
  }

  /** An engine on {@code database} with {@code clusters}, the first the default; ready. */
  public static RunningEngine start(EngineConfig.Database database, EngineConfig.Tuning tuning,
      List<Cluster> clusters) {
    return new RunningEngine(database, tuning, List.copyOf(clusters));
  }

  /** An engine with one cluster named after its backend, polled each second ({@link #TUNING}). */
  public static RunningEngine start(EngineConfig.Database database, String name, Backend backend,
      Transport transport) {
    return start(database, TUNING, List.of(cluster(name, backend, transport,
        ClusterConfig.Policy.DEFAULT, TUNING.pollInterval())));
  }

  /** A cluster for {@link #start(EngineConfig.Database, EngineConfig.Tuning, List)}. */
  public static Cluster cluster(String name, Backend backend, Transport transport,
      ClusterConfig.Policy policy, Duration pollInterval) {
    return new Cluster(name, name, backend, transport, 0, pollInterval, policy);
  }

  /** The embedded H2 store of an engine whose home is {@code home}, as {@code run} keeps it. */
  public static EngineConfig.Database h2(Path home) {
    return ConfigLoader.defaults(home).database();
  }

  public JobManager manager() {
    return manager;
  }

  public JobStore store() {
    return store;
  }

  /** The user the engine's jobs are submitted as in these tests: whoever runs them. */
  public static String user() {
    return System.getProperty("user.name");
  }

  /**
   * Stops the engine as a SIGKILL would: its threads are interrupted wherever they are (a submit
   * call waiting for its answer stays unanswered), nothing is finished in order, and the store is
   * closed under them.
   */
  public void crash() throws InterruptedException {
    running = false;
    managerThread.interrupt();
    managerThread.join(10_000);
    writerThread.interrupt();
    writerThread.join(10_000);
    db.close();
  }

  /** Stops the engine in order, as on SIGTERM. */
  public void stop() throws Exception {
    if (!running) {
      return;
    }
    running = false;
    manager.stop().get(30, TimeUnit.SECONDS);
    managerThread.join(10_000);
    writer.stop();
    writerThread.join(10_000);
    db.close();
  }

  @Override
  public void close() throws Exception {
    stop();
  }
}
