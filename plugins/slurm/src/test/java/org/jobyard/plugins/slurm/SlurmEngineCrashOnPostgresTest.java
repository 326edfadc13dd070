package org.jobyard.plugins.slurm;

import org.jobyard.engine.config.EngineConfig;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Tag;

/** {@link SlurmEngineCrashTest} with the engine's store on the testbed's PostgreSQL. */
@Tag("testbed")
class SlurmEngineCrashOnPostgresTest extends SlurmEngineCrashTest {
  private EngineConfig.Database database;

  @Override
  EngineConfig.Database database() {
    if (database == null) { // one schema per test: the restarted engine reopens it
      database = new EngineConfig.Database(Testbed.freshPostgresSchema(), Testbed.get("PG_USER"),
          Testbed.get("PG_PASSWORD"), 4);
    }
    return database;
  }
}
