package org.jobyard.engine.metrics;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import org.jobyard.engine.config.EngineConfig;

/** The engine's metrics (Prometheus), which the store and the clusters report to. */
public final class MetricsModule extends AbstractModule {

  @Provides
  @Singleton
  EngineMetrics metrics(EngineConfig c) {
    return new EngineMetrics(c.metrics());
  }
}
