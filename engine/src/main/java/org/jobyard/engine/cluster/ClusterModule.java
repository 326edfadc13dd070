package org.jobyard.engine.cluster;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.jobyard.engine.config.ClusterConfig;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.drain.Drains;
import org.jobyard.engine.manager.Cluster;
import org.jobyard.engine.manager.JobManager;
import org.jobyard.engine.metrics.EngineMetrics;
import org.jobyard.engine.plugin.PluginRegistry;

/**
 * The plugins and the clusters made from them, each with its transport (one SSH pool per host
 * and account, shared).
 */
public final class ClusterModule extends AbstractModule {

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

  /** Drained clusters (kept in the state folder) and the configuration's downtime windows. */
  @Provides
  @Singleton
  Drains drains(EngineConfig c) {
    var windows = new java.util.LinkedHashMap<String, List<ClusterConfig.Downtime>>();
    c.clusters().forEach((name, cc) -> windows.put(name, cc.policy().downtime()));
    return new Drains(c.varDir().resolve("drained.json"), windows, java.time.Clock.systemUTC());
  }

  /** Backends ask for early polls before the manager exists; the relay closes that loop. */
  @Provides
  @Singleton
  AtomicReference<JobManager> managerRelay() {
    return new AtomicReference<>();
  }

  @Provides
  @Singleton
  ClusterFactory factory(EngineConfig c, PluginRegistry plugins, EngineMetrics metrics,
      ClusterConditions conditions) {
    return new ClusterFactory(c, plugins, metrics::instrument, conditions);
  }

  /** Tells the manager (once there is one) that a cluster's backend asked for an early poll. */
  @Provides
  @Singleton
  java.util.function.Consumer<String> pollSoon(AtomicReference<JobManager> relay) {
    return name -> {
      var m = relay.get();
      if (m != null) {
        m.pollSoon(name);
      }
    };
  }

  @Provides
  @Singleton
  List<Cluster> clusters(ClusterFactory factory, java.util.function.Consumer<String> pollSoon) {
    return factory.create(pollSoon);
  }
}
