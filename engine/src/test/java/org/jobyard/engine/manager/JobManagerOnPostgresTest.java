package org.jobyard.engine.manager;

import org.jobyard.engine.config.EngineConfig;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Tag;

/**
 * Every {@link JobManagerTest}, the crash and restart cases included, on the testbed's PostgreSQL
 * (one schema per test; an engine restarted within a test reopens the same one).
 */
@Tag("testbed")
class JobManagerOnPostgresTest extends JobManagerTest {
  private EngineConfig.Database database;

  @Override
  EngineConfig.Database database() {
    if (database == null) {
      database = new EngineConfig.Database(Testbed.freshPostgresSchema(), Testbed.get("PG_USER"),
          Testbed.get("PG_PASSWORD"), 4);
    }
    return database;
  }
}
