package org.jobyard.engine;

import com.google.inject.AbstractModule;
import org.jobyard.engine.cluster.ClusterModule;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.manager.ManagerModule;
import org.jobyard.engine.metrics.MetricsModule;
import org.jobyard.engine.store.StoreModule;

/**
 * The engine's wiring: the configuration, and one module per feature (store, metrics, plugins and
 * clusters, manager). Free of side effects: nothing is opened until the {@link Engine} is asked
 * for.
 */
public final class EngineModule extends AbstractModule {
  private final EngineConfig config;

  public EngineModule(EngineConfig config) {
    this.config = config;
  }

  @Override
  protected void configure() {
    bind(EngineConfig.class).toInstance(config);
    install(new StoreModule());
    install(new org.jobyard.engine.lease.LeaseModule());
    install(new MetricsModule());
    install(new ClusterModule());
    install(new ManagerModule());
  }
}
