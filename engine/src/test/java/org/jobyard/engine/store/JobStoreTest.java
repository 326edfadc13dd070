package org.jobyard.engine.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
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
    db = new Database(new EngineConfig.Database(Testbed.freshPostgresSchema(), Testbed.get("PG_USER"),
        Testbed.get("PG_PASSWORD"), 2));
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
            JobState.SUBMITTING, null, null, null, now, now, null, null))));
    // several changes to one job in one transaction: the last wins
    var a = job("a", 1, "alice", "s1", JobState.RUNNING);
    store.apply(List.of(
        new Change.UpdateJob(new JobRow("a", 1, "name-a", "alice", "s1", "{}",
            JobRow.Desired.RUN, JobState.SUBMITTING, 1, 0, 0, null, null, a.createdAt(), now)),
        new Change.UpdateJob(new JobRow("a", 1, "name-a", "alice", "s1", "{}",
            JobRow.Desired.RUN, JobState.RUNNING, 1, 0, 0, null, null, a.createdAt(), now)),
        new Change.UpdateAttempt(new AttemptRow("a", 1, "local", "local", "123", "R",
            JobState.RUNNING, null, null, "{\"k\":\"v\"}", now, now, now.plusSeconds(1), null)),
        new Change.UpdateJob(job("c", 3, "alice", null, JobState.SUCCEEDED))));
    assertThat(store.job("a").orElseThrow().state()).isEqualTo(JobState.RUNNING);
    assertThat(store.currentAttempts(List.of("a", "b"))).singleElement()
        .satisfies(x -> assertThat(x.nativeId()).isEqualTo("123"));
    var live = store.liveJobsWithAttempts();
    assertThat(live).extracting(l -> l.job().id()).containsExactly("a", "b");
    assertThat(live.get(0).attempt().nativeId()).isEqualTo("123");
    assertThat(live.get(0).attempt().startedAt()).isCloseTo(now.plusSeconds(1),
        within(1, java.time.temporal.ChronoUnit.MILLIS));
    assertThat(store.attempts("a")).singleElement().satisfies(x -> assertThat(x.endedAt()).isNull());
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
  void aTransactionWritesOnlyTheLastUpdateOfEachRowAndEverythingElseInOrder() {
    var now = Instant.now();
    var submitting = new Change.UpdateJob(job("a", 1, "alice", null, JobState.SUBMITTING));
    var running = new Change.UpdateJob(job("a", 1, "alice", null, JobState.RUNNING));
    var other = new Change.UpdateJob(job("b", 2, "bob", null, JobState.RUNNING));
    var submitted = new Change.UpdateAttempt(new AttemptRow("a", 1, "local", "local", "1", "Q",
        JobState.PENDING, null, null, null, now, now, null, null));
    var ended = new Change.UpdateAttempt(new AttemptRow("a", 1, "local", "local", "1", "E",
        JobState.SUCCEEDED, 0, null, null, now, now, now, now));
    var retry = new Change.UpdateAttempt(new AttemptRow("a", 2, "local", "local", "2", "Q",
        JobState.PENDING, null, null, null, now, now, null, null));
    var outbox = new Change.InsertOutbox(1, "a", "clean", "{}");
    assertThat(JobStore.merged(List.of(submitting, submitted, other, running, outbox, ended,
        retry))).containsExactly(other, running, outbox, ended, retry);
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
  void anEmbeddedStoreWritesEachCommitBeforeAnsweringSoASigkillLosesNothing() throws Exception {
    var url = "jdbc:h2:file:" + dir.resolve("killed");
    assertThat(Database.h2Defaults(url)).as("the defaults that make this hold")
        .contains("WRITE_DELAY=0");
    survivesASigkill(url, "sa", "");
  }

  @Test
  @Tag("testbed")
  void aPostgresStoreLosesNoAcknowledgedCommitToASigkill() throws Exception {
    survivesASigkill(Testbed.freshPostgresSchema(), Testbed.get("PG_USER"), Testbed.get("PG_PASSWORD"));
  }

  /**
   * Starts a JVM that commits one job at a time and prints each after its commit, SIGKILLs it
   * mid-stream, then reopens the store: every job it reported is there.
   */
  private void survivesASigkill(String url, String user, String password) throws Exception {
    var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    var child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        CommittingProcess.class.getName(), url, user, password)
        .redirectError(dir.resolve("child.err").toFile()).start();
    int acknowledged = 0;
    try (var out = new BufferedReader(new InputStreamReader(child.getInputStream(),
        StandardCharsets.UTF_8))) {
      String line;
      // a few commits in, so that the kill lands while it is writing the next ones
      while (acknowledged < 30 && (line = out.readLine()) != null) {
        acknowledged = Integer.parseInt(line.substring("committed ".length()));
      }
      assertThat(acknowledged).as("commits the child reported before it stopped (see %s)",
          dir.resolve("child.err")).isEqualTo(30);
      // SIGKILL (the handle's, which leaves our end of the pipe open): no hook, no orderly close
      child.toHandle().destroyForcibly();
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(child.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);
      while ((line = out.readLine()) != null) { // printed between our read and the kill
        acknowledged = Integer.parseInt(line.substring("committed ".length()));
      }
    } finally {
      child.destroyForcibly();
    }
    db = new Database(new EngineConfig.Database(url, user, password, 1));
    var store = new JobStore(db);
    for (int i = 1; i <= acknowledged; i++) {
      assertThat(store.job("k" + i)).as("job k%d, acknowledged before the SIGKILL", i)
          .isPresent();
    }
  }
}
