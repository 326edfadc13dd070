package org.jobyard.distribution;

import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Assumptions;

/**
 * Issue 18: the crash suite on PostgreSQL (a fresh schema for each test), where the engine holds a
 * lease and a restarted engine replaces its killed predecessor on the same home. The SIGKILL tests
 * run here; the SIGTERM burst runs on H2 only, to keep CI time down.
 */
class CrashSafetyOnPostgresIT extends CrashSafetyIT {
  @Override
  String database() {
    return """
        database: {url: "%s", user: "%s", password: "%s"}
        """.formatted(Testbed.freshPostgresSchema(), Testbed.get("PG_USER"),
        Testbed.get("PG_PASSWORD"));
  }

  @Override
  void onH2Only() {
    Assumptions.abort("runs on H2 only (CrashSafetyIT): CI time");
  }
}
