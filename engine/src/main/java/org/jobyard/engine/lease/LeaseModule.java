package org.jobyard.engine.lease;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.store.Database;
import org.jobyard.engine.store.Fence;

/**
 * On PostgreSQL an engine is one of possibly several (i18): it registers a lease and writes only
 * its own jobs. H2 has one engine, which its file lock enforces ("is another Jobyard engine using
 * it?" at the second one's start).
 */
public final class LeaseModule extends AbstractModule {

  @Provides
  @Singleton
  Fence fence(EngineConfig c, Database db) {
    if (!c.database().shared()) {
      return Fence.SOLE;
    }
    return new EngineLease(db.jdbi(), c.database().lease(), hostName(), c.home().toString());
  }

  @Provides
  @Singleton
  Leases leases(Fence fence) {
    return new Leases(fence);
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      return "unknown host";
    }
  }
}
