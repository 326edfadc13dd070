package org.jobyard.engine.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.jobyard.api.JobState;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job tables on embedded H2 and, with the testbed, on a real PostgreSQL. */
class JobStoreTest {
  @TempDir
  Path dir;
  Database db;

  @AfterEach
  void close() {
    if (db != null) {
      db.close();
    }
  }

  JobStore h2() {
    db = new Database(new EngineConfig.Database("jdbc:h2:file:" + dir.resolve("db"), "sa", "", 2));
    return new JobStore(db);
  }

  JobStore postgres() throws Exception {
    Testbed.require(Testbed.PG);
    var url = Testbed.get("PG_URL");
    var schema = "t" + Long.toHexString(System.nanoTime());
    try (var c = DriverManager.getConnection(url, Testbed.get("PG_USER"),
        Testbed.get("PG_PASSWORD")); var s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    }
    db = new Database(new EngineConfig.Database(url + (url.contains("?") ? "&" : "?")
        + "currentSchema=" + schema, Testbed.get("PG_USER"), Testbed.get("PG_PASSWORD"), 2));
    return new JobStore(db);
  }

  static JobRow job(String id, long seq, String owner, String session, JobState state) {
    var now = Instant.now();
    return new JobRow(id, seq, "name-" + id, owner, session, "{}", JobRow.Desired.RUN, state, 0,
        0, 0, null, null, now, now);
  }

  void exercise(JobStore store) {
    var now = Instant.now();
    store.apply(List.of(
        new Change.InsertJob(job("a", 1, "alice", "s1", JobState.QUEUED)),
        new Change.InsertJob(job("b", 2, "bob", "s1", JobState.QUEUED)),
        new Change.InsertJob(job("c", 3, "alice", null, JobState.QUEUED)),
        new Change.InsertAttempt(new AttemptRow("a", 1, "local", "local", null, null,
            JobState.SUBMITTING, null, null, null, now, now))));
    // several changes to one job in one transaction: the last wins
    var a = job("a", 1, "alice", "s1", JobState.RUNNING);
    store.apply(List.of(
        new Change.UpdateJob(new JobRow("a", 1, "name-a", "alice", "s1", "{}",
            JobRow.Desired.RUN, JobState.SUBMITTING, 1, 0, 0, null, null, a.createdAt(), now)),
        new Change.UpdateJob(new JobRow("a", 1, "name-a", "alice", "s1", "{}",
            JobRow.Desired.RUN, JobState.RUNNING, 1, 0, 0, null, null, a.createdAt(), now)),
        new Change.UpdateAttempt(new AttemptRow("a", 1, "local", "local", "123", "R",
            JobState.RUNNING, null, null, "{\"k\":\"v\"}", now, now)),
        new Change.UpdateJob(job("c", 3, "alice", null, JobState.SUCCEEDED))));
    assertThat(store.job("a").orElseThrow().state()).isEqualTo(JobState.RUNNING);
    assertThat(store.currentAttempts(List.of("a", "b"))).singleElement()
        .satisfies(x -> assertThat(x.nativeId()).isEqualTo("123"));
    var live = store.liveJobsWithAttempts();
    assertThat(live).extracting(l -> l.job().id()).containsExactly("a", "b");
    assertThat(live.get(0).attempt().nativeId()).isEqualTo("123");
    assertThat(live.get(1).attempt()).isNull();
    // ids OR names OR users OR sessions, narrowed by state and visibility
    assertThat(store.find(new JobQuery(List.of("b"), List.of("name-c"), List.of(), List.of(),
        Set.of(), Set.of(), 0))).extracting(JobRow::id).containsExactly("b", "c");
    assertThat(store.find(new JobQuery(List.of(), List.of(), List.of(), List.of("s1"),
        Set.of(JobState.RUNNING), Set.of(), 0))).extracting(JobRow::id).containsExactly("a");
    assertThat(store.find(new JobQuery(List.of(), List.of(), List.of(), List.of("s1"), Set.of(),
        Set.of("bob"), 0))).extracting(JobRow::id).containsExactly("b");
    assertThat(store.maxSeq()).isEqualTo(3);
    // a transaction that fails leaves nothing half-written
    assertThatThrownBy(() -> store.apply(List.of(
        new Change.InsertJob(job("d", 4, "alice", null, JobState.QUEUED)),
        new Change.InsertJob(job("a", 5, "alice", null, JobState.QUEUED)))))
        .isInstanceOf(StoreException.class);
    assertThat(store.job("d")).isEmpty();
    store.apply(List.of(new Change.InsertOutbox(7, "c", "clean", "{}"),
        new Change.DeleteJob("c")));
    assertThat(store.job("c")).isEmpty();
    assertThat(store.outbox()).extracting(JobStore.OutboxEntry::id).containsExactly(7L);
    assertThat(store.maxOutboxId()).isEqualTo(7);
  }

  @Test
  void keepsJobsAndAttemptsInEmbeddedH2() {
    exercise(h2());
  }

  @Test
  @Tag("testbed")
  void keepsJobsAndAttemptsInPostgres() throws Exception {
    exercise(postgres());
  }

  @Test
  void anEmbeddedStoreWritesEachCommitBeforeAnsweringSoASigkillLosesNothing() {
    assertThat(Database.h2Defaults("jdbc:h2:file:/x/db"))
        .isEqualTo("jdbc:h2:file:/x/db;WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE");
    assertThat(Database.h2Defaults("jdbc:h2:file:/x/db;WRITE_DELAY=100"))
        .isEqualTo("jdbc:h2:file:/x/db;WRITE_DELAY=100;DB_CLOSE_ON_EXIT=FALSE");
    assertThat(Database.h2Defaults("jdbc:postgresql://h/db")).isEqualTo("jdbc:postgresql://h/db");
  }
}
