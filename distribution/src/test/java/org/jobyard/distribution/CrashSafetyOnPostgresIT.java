package org.jobyard.distribution;

import org.jobyard.testkit.Testbed;

/**
 * Issue 18: the whole crash suite on PostgreSQL (a fresh schema for each test), where the engine
 * holds a lease and a restarted engine replaces its killed predecessor on the same home: the
 * 300-job SIGKILLs, the dependency chain across a SIGKILL and the SIGTERM burst.
 */
class CrashSafetyOnPostgresIT extends CrashSafetyIT {
  @Override
  String database() {
    return """
        database: {url: "%s", user: "%s", password: "%s"}
        """.formatted(Testbed.freshPostgresSchema(), Testbed.get("PG_USER"),
        Testbed.get("PG_PASSWORD"));
  }
}
