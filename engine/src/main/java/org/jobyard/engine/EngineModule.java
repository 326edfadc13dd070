package org.jobyard.engine;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.jobyard.engine.cluster.ClusterConditions;
import org.jobyard.engine.cluster.ClusterFactory;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.manager.Cluster;
import org.jobyard.engine.manager.JobManager;
import org.jobyard.engine.metrics.EngineMetrics;
import org.jobyard.engine.plugin.PluginRegistry;
import org.jobyard.engine.store.Database;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreWriter;

/**
 * The engine's wiring, one provider per feature. Free of side effects: nothing is opened until
 * the {@link Engine} is asked for.
 */
public final class EngineModule extends AbstractModule {
  private final EngineConfig config;

  public EngineModule(EngineConfig config) {
    this.config = config;
  }

  @Override
  protected void configure() {
    bind(EngineConfig.class).toInstance(config);
  }

  @Provides
  @Singleton
  Database database(EngineConfig c) {
    return new Database(c.database());
  }

  @Provides
  @Singleton
  JobStore store(Database db) {
    return new JobStore(db);
  }

  @Provides
  @Singleton
  StoreWriter writer(JobStore store, EngineMetrics metrics) {
    return new StoreWriter(store, metrics.storeObserver());
  }

  @Provides
  @Singleton
  EngineMetrics metrics(EngineConfig c) {
    return new EngineMetrics(c.metrics());
  }

  @Provides
  @Singleton
  PluginRegistry plugins(EngineConfig c) {
    return PluginRegistry.load(c.home().resolve("plugins"));
  }

  @Provides
  @Singleton
  ClusterConditions conditions() {
    return new ClusterConditions();
  }

  /** Backends ask for early polls before the manager exists; the relay closes that loop. */
  @Provides
  @Singleton
  AtomicReference<JobManager> managerRelay() {
    return new AtomicReference<>();
  }

  @Provides
  @Singleton
  List<Cluster> clusters(EngineConfig c, PluginRegistry plugins,
      AtomicReference<JobManager> relay, EngineMetrics metrics, ClusterConditions conditions) {
    return new ClusterFactory(c, plugins, metrics::instrument, conditions).create(name -> {
      var m = relay.get();
      if (m != null) {
        m.pollSoon(name);
      }
    });
  }

  @Provides
  @Singleton
  JobManager manager(EngineConfig c, JobStore store, StoreWriter writer, List<Cluster> clusters,
      AtomicReference<JobManager> relay) {
    var m = new JobManager(store, writer, c.engine(), clusters, c.defaultClusters());
    relay.set(m);
    return m;
  }
}
