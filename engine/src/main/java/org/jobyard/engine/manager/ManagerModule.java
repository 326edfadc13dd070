package org.jobyard.engine.manager;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.drain.Drains;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreWriter;

/** The job manager, the one owner of job state. */
public final class ManagerModule extends AbstractModule {

  @Provides
  @Singleton
  JobManager manager(EngineConfig c, JobStore store, StoreWriter writer, List<Cluster> clusters,
      AtomicReference<JobManager> relay, Drains drains) {
    var m = new JobManager(store, writer, c.engine(), clusters, c.defaultClusters(), drains);
    relay.set(m);
    return m;
  }
}
