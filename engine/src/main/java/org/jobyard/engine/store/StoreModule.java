package org.jobyard.engine.store;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.metrics.EngineMetrics;

/** The job store: the database, its tables, and the one writer that commits the manager's turns. */
public final class StoreModule extends AbstractModule {

  @Provides
  @Singleton
  Database database(EngineConfig c) {
    return new Database(c.database());
  }

  /** The store writes only the jobs the {@link Fence} lets it (lease.LeaseModule binds it). */
  @Provides
  @Singleton
  JobStore store(Database db, Fence fence) {
    return new JobStore(db, fence);
  }

  @Provides
  @Singleton
  StoreWriter writer(JobStore store, EngineMetrics metrics) {
    return new StoreWriter(store, metrics.storeObserver());
  }
}
