package org.jobyard.engine.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import org.jobyard.engine.config.EngineConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening the store: Flyway runs for a new or older schema, and is skipped when it is current. */
class DatabaseTest {
  @TempDir
  Path dir;

  @Test
  void aNewStoreIsMigratedAndAnUpToDateOneOpensWithoutFlyway() {
    var config = new EngineConfig.Database("jdbc:h2:file:" + dir.resolve("db"), "sa", "", 2);
    try (var db = new Database(config)) {
      assertThat(db.migrated()).as("a new store gets its schema").isTrue();
      db.jdbi().useHandle(h -> h.execute("INSERT INTO jobs (id, seq, name, owner, spec, desired,"
          + " state, attempt, cluster_index, retries_left, created_at, updated_at) VALUES ('j1',"
          + " 1, 'n', 'me', '{}', 'RUN', 'QUEUED', 0, 0, 0, CURRENT_TIMESTAMP,"
          + " CURRENT_TIMESTAMP)"));
    }
    try (var db = new Database(config)) {
      assertThat(db.migrated()).as("the second open finds every migration applied").isFalse();
      assertThat(new JobStore(db).job("j1")).as("and the store as it was").isPresent();
    }
  }

  @Test
  void theMigrationsAreFoundFromTheBuildsListOfTheMigrationFolderInFlywaysOrder()
      throws Exception {
    // a new V*.sql left out of Database.MIGRATIONS would never be applied to an existing store
    try (var files = Files.list(Path.of("src/main/resources/db/migration"))) {
      var versions = files.map(f -> f.getFileName().toString())
          .filter(n -> n.startsWith("V") && n.endsWith(".sql"))
          .map(n -> n.substring(1, n.indexOf("__")).replace('_', '.'))
          .sorted(Comparator.comparing(Runtime.Version::parse)).toList();
      assertThat(versions).contains("1", "21.2");
      assertThat(Database.MIGRATIONS).isEqualTo(versions);
    }
    assertThat(Database.versions(java.util.List.of("V21_10__b.sql", "V3__a.sql", "V21_2__c.sql",
        "README.md"))).as("by number, not by text").containsExactly("3", "21.2", "21.10");
  }
}
