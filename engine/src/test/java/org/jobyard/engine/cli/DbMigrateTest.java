package org.jobyard.engine.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.jobyard.api.JobState;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.lease.EngineLease;
import org.jobyard.engine.store.AttemptRow;
import org.jobyard.engine.store.Change;
import org.jobyard.engine.store.Database;
import org.jobyard.engine.store.JobQuery;
import org.jobyard.engine.store.JobRow;
import org.jobyard.engine.store.JobStore;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jobyard db migrate}: an H2 installation moved to PostgreSQL, nothing lost (i18). */
class DbMigrateTest {
  @TempDir
  Path home;

  record Run(int exit, String out, String err) {}

  Run jobyard(String... args) {
    var out = new StringWriter();
    var err = new StringWriter();
    int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(exit, out.toString(), err.toString());
  }

  static JobRow job(String id, long seq, JobState state, int attempt) {
    var now = Instant.now();
    return new JobRow(id, seq, "name-" + id, "alice", "s", "{}", JobRow.Desired.RUN, state,
        attempt, 0, 0, state == JobState.SUCCEEDED ? 0 : null, null, now, now);
  }

  static AttemptRow attempt(String jobId, JobState state) {
    var now = Instant.now();
    return new AttemptRow(jobId, 1, "local", "local", "native-" + jobId, "R", state, null, null,
        "{\"dir\":\"/x\"}", now, now, now, null);
  }

  EngineConfig.Database pg(String url) {
    return new EngineConfig.Database(url, Testbed.get("PG_USER"), Testbed.get("PG_PASSWORD"), 2);
  }

  @Test
  void movesFinishedAndLiveJobsFromH2ToAnEmptyPostgresOnceAndAnEngineThereTakesTheLiveOnesOn()
      throws Exception {
    var h2 = new EngineConfig.Database("jdbc:h2:file:" + home.resolve("var/db/jobyard"),
        "jobyard", "", 2);
    try (var db = new Database(h2)) {
      new JobStore(db).apply(List.of(
          new Change.InsertJob(job("done", 1, JobState.SUCCEEDED, 1)),
          new Change.InsertAttempt(attempt("done", JobState.SUCCEEDED)),
          new Change.InsertJob(job("running", 2, JobState.RUNNING, 1)),
          new Change.InsertAttempt(attempt("running", JobState.RUNNING)),
          new Change.InsertJob(job("queued", 3, JobState.QUEUED, 0))));
    }
    var url = Testbed.freshPostgresSchema();
    var passwordFile = Files.writeString(home.resolve("db-password"),
        Testbed.get("PG_PASSWORD") + "\n");

    var moved = jobyard("--home", home.toString(), "db", "migrate", "--to", url, "--user",
        Testbed.get("PG_USER"), "--password", "file:" + passwordFile);
    assertThat(moved.exit()).as(moved.toString()).isZero();
    assertThat(moved.out()).contains("moved 3 job(s) (2 live), 2 attempt(s)");

    try (var db = new Database(pg(url))) {
      var store = new JobStore(db);
      var all = new JobQuery(List.of(), List.of(), List.of(), List.of(), java.util.Set.of(),
          java.util.Set.of(), 0);
      assertThat(store.find(all)).extracting(JobRow::id, JobRow::state).containsExactly(
              org.assertj.core.groups.Tuple.tuple("done", JobState.SUCCEEDED),
              org.assertj.core.groups.Tuple.tuple("running", JobState.RUNNING),
              org.assertj.core.groups.Tuple.tuple("queued", JobState.QUEUED));
      assertThat(store.attempts("running")).singleElement().satisfies(a -> {
        assertThat(a.nativeId()).isEqualTo("native-running");
        assertThat(a.attributes()).isEqualTo("{\"dir\":\"/x\"}");
      });
      var engine = new EngineLease(db.jdbi(), Duration.ofSeconds(30), "h", "/h");
      engine.register();
      assertThat(new JobStore(db, engine).liveJobsWithAttempts()).isEmpty();
      assertThat(engine.claim(100, false).jobs()).as("the first engine takes the live jobs on")
          .isEqualTo(List.of("running", "queued"));
    }

    var again = jobyard("--home", home.toString(), "db", "migrate", "--to", url, "--user",
        Testbed.get("PG_USER"), "--password", "file:" + passwordFile);
    assertThat(again.exit()).as(again.toString()).isEqualTo(Main.BAD_INPUT);
    assertThat(again.err()).contains("the target store already holds 3 job(s)")
        .contains("nothing was copied");
  }

  @Test
  void refusesToMoveAPostgresStoreWhileAnEngineHoldsALeaseOnIt() throws Exception {
    var source = Testbed.freshPostgresSchema();
    Files.createDirectories(home.resolve("conf"));
    Files.writeString(home.resolve("conf/jobyard.yaml"), """
        database: {url: "%s", user: "%s", password: "%s"}
        """.formatted(source, Testbed.get("PG_USER"), Testbed.get("PG_PASSWORD")));
    try (var db = new Database(pg(source))) {
      new EngineLease(db.jdbi(), Duration.ofSeconds(60), "h", "/h").register();
      var run = jobyard("--home", home.toString(), "db", "migrate", "--to",
          Testbed.freshPostgresSchema(), "--user", Testbed.get("PG_USER"), "--password",
          Testbed.get("PG_PASSWORD"));
      assertThat(run.exit()).as(run.toString()).isEqualTo(Main.ENGINE_FAILED);
      assertThat(run.err()).contains("1 engine(s) use the source store").contains("stop them");
    }
  }
}
