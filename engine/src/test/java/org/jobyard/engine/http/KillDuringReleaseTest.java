package org.jobyard.engine.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jobyard.api.JobState;
import org.jobyard.engine.access.Access;
import org.jobyard.engine.control.Caller;
import org.jobyard.engine.control.JobControl;
import org.jobyard.engine.control.Selector;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: a kill that reaches an engine between its release of a queued job to the shared queue
 * (in memory) and that release's commit. The window is held open on purpose: the test locks the
 * job's row, so the store writer waits on it with the release in hand, and lets it go only once
 * the kill is waiting for the manager's answer.
 */
@Tag("testbed")
class KillDuringReleaseTest {
  private static final String TOKEN = "release-token-0123456789abcdef";
  @TempDir
  Path home;
  private TestEngine engine;
  private Connection lock;

  @AfterEach
  void close() throws Exception {
    if (lock != null) {
      lock.rollback();
      lock.close();
    }
    if (engine != null) {
      engine.close();
    }
  }

  private JobState state(String id) {
    return engine.engine().store().job(id).orElseThrow().state();
  }

  @Test
  void aKillThatReachesTheEngineWhileItReleasesTheJobToTheSharedQueueStillCancelsIt()
      throws Exception {
    var url = Testbed.freshPostgresSchema();
    var user = Testbed.get("PG_USER");
    var password = Testbed.get("PG_PASSWORD");
    engine = TestEngine.start(home, TestEngine.onPostgres(url, "60s", 1, TOKEN));
    var control = new JobControl(engine.engine(), new Access(engine.engine().config(), "alice"));
    var alice = new Caller("alice", false);
    var first = engine.submit(TOKEN, Map.of("name", "first", "executable", "ok")).getFirst();
    await().atMost(Duration.ofSeconds(60)).until(() -> state(first) == JobState.SUCCEEDED);
    // max_jobs 1: the engine holds two jobs for the cluster, one running and one queued
    var ids = engine.submit(TOKEN, List.of(Map.of("name", "runs", "executable", "hang"),
        Map.of("name", "waits", "executable", "hang")));
    var runs = ids.get(0);
    var waits = ids.get(1);
    await().atMost(Duration.ofSeconds(60)).until(() -> state(runs) == JobState.RUNNING);

    lock = DriverManager.getConnection(url, user, password);
    lock.setAutoCommit(false);
    try (var s = lock.createStatement()) {
      s.executeQuery("SELECT id FROM jobs WHERE id = '" + waits + "' FOR UPDATE").close();
    }
    // the restarted job is a third one queued: the engine gives the newest queued, 'waits',
    // back to the shared queue, and its writer waits for the lock with that release in hand
    var restarted = CompletableFuture.supplyAsync(() -> control.restart(alice,
        Selector.ids(first)));
    await().atMost(Duration.ofSeconds(60)).until(() -> blockedByLock() > 0);

    var killed = new CompletableFuture<List<String>>();
    var killer = Thread.ofPlatform().name("kill").start(() -> {
      try {
        killed.complete(control.kill(alice, Selector.ids(waits)));
      } catch (RuntimeException e) {
        killed.completeExceptionally(e);
      }
    });
    // routed to this engine, which owns 'waits' as far as the store says: the kill waits for
    // its manager's answer (or, were that answer not held back by the commit, has it already)
    await().atMost(Duration.ofSeconds(60)).until(() -> killed.isDone()
        || Arrays.stream(killer.getStackTrace()).anyMatch(f -> f.getMethodName().equals("await")
            && f.getClassName().equals(JobControl.class.getName())));
    lock.rollback();

    assertThat(killed.get(60, java.util.concurrent.TimeUnit.SECONDS)).as("acted on")
        .containsExactly(waits);
    await().atMost(Duration.ofSeconds(60)).until(() -> state(waits) == JobState.CANCELLED);
    assertThat(restarted.get(60, java.util.concurrent.TimeUnit.SECONDS)).containsExactly(first);
    assertThat(engine.engine().store().attempts(waits)).as("never submitted").isEmpty();
    assertThat(state(runs)).isEqualTo(JobState.RUNNING);
  }

  /** Sessions waiting for the test's lock: the store writer, once it holds the release. */
  private int blockedByLock() throws Exception {
    try (var s = lock.createStatement(); var rs = s.executeQuery("SELECT count(*) FROM"
        + " pg_stat_activity WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid))")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
