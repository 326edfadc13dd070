package org.jobyard.engine.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.jobyard.api.JobState;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.store.Change;
import org.jobyard.engine.store.Database;
import org.jobyard.engine.store.FencedException;
import org.jobyard.engine.store.JobRow;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreUnavailableException;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Leases of several engines on one PostgreSQL schema (fresh for each test), in one process. */
class EngineLeaseTest {
  Database db;

  @BeforeEach
  void open() {
    db = new Database(new EngineConfig.Database(Testbed.freshPostgresSchema(),
        Testbed.get("PG_USER"), Testbed.get("PG_PASSWORD"), 4));
  }

  @AfterEach
  void close() {
    db.close();
  }

  int homes;

  EngineLease engine(Duration ttl) {
    return engine(ttl, "/test/home-" + ++homes);
  }

  EngineLease engine(Duration ttl, String home) {
    var lease = new EngineLease(db.jdbi(), ttl, "test-host", home);
    lease.register();
    return lease;
  }

  static Change job(String id, long seq, JobState state) {
    var now = Instant.now();
    return new Change.InsertJob(new JobRow(id, seq, "name-" + id, "alice", null, "{}",
        JobRow.Desired.RUN, state, 0, 0, 0, null, null, now, now));
  }

  static List<String> ids(JobStore store) {
    return store.liveJobsWithAttempts().stream().map(l -> l.job().id()).toList();
  }

  @Test
  void anEngineWhoseLeaseRanOutLosesItsLiveJobsToAnotherAndCanNoLongerWrite() {
    var a = engine(Duration.ofSeconds(1));
    var storeA = new JobStore(db, a);
    storeA.apply(List.of(job("a1", 1, JobState.QUEUED), job("a2", 2, JobState.RUNNING),
        job("a3", 3, JobState.SUCCEEDED)));
    var b = engine(Duration.ofSeconds(30));
    var storeB = new JobStore(db, b);
    assertThat(b.claim(100, true).jobs()).as("a's lease still runs").isEmpty();
    assertThat(ids(storeA)).containsExactly("a1", "a2");

    var claimed = new AtomicReference<List<String>>();
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      claimed.set(b.claim(100, true).jobs()); // a no longer renews
      return !claimed.get().isEmpty();
    });
    assertThat(claimed.get()).as("live jobs only").containsExactly("a1", "a2");
    assertThat(ids(storeB)).containsExactly("a1", "a2");
    assertThat(ids(storeA)).isEmpty();
    assertThat(a.renew()).as("a's row is gone: it is fenced").isFalse();
    assertThatThrownBy(() -> storeA.apply(List.of(job("a4", 4, JobState.QUEUED))))
        .isInstanceOf(FencedException.class)
        .hasMessageContaining("engine " + a.engineId() + " lost its lease");
    assertThat(storeB.job("a4")).as("nothing of the fenced write was stored").isEmpty();
  }

  @Test
  void anEngineStartedAgainOnTheSameHomeTakesItsPredecessorsJobsAtOnce() {
    var before = engine(Duration.ofSeconds(60), "/srv/jobyard");
    var storeBefore = new JobStore(db, before);
    storeBefore.apply(List.of(job("j1", 1, JobState.RUNNING)));
    var after = engine(Duration.ofSeconds(60), "/srv/jobyard");

    assertThat(before.renew()).as("the earlier engine of the home is fenced").isFalse();
    assertThat(after.claim(100, true).jobs()).as("without waiting for its lease")
        .containsExactly("j1");
    assertThatThrownBy(() -> storeBefore.apply(List.of(job("j2", 2, JobState.QUEUED))))
        .isInstanceOf(FencedException.class);
  }

  @Test
  void jobsWithNoOwnerAreClaimedAtOnceButThoseOfARunningEngineAreNot() {
    var sole = new JobStore(db); // as moved in from H2: no owner
    sole.apply(List.of(job("old1", 1, JobState.QUEUED), job("old2", 2, JobState.PENDING)));
    var a = engine(Duration.ofSeconds(30));
    new JobStore(db, a).apply(List.of(job("a1", 3, JobState.QUEUED)));
    var b = engine(Duration.ofSeconds(30));

    assertThat(b.claim(100, false).jobs()).containsExactly("old1", "old2");
    assertThat(b.claim(100, true).jobs()).as("a renews its lease").isEmpty();
    assertThat(ids(new JobStore(db, b))).containsExactly("old1", "old2");
  }

  @Test
  void aKillForAJobAnotherEngineOwnsIsStoredForThatEngineUntilItIsDone() {
    var a = engine(Duration.ofSeconds(30));
    var b = engine(Duration.ofSeconds(30));
    new JobStore(db, a).apply(List.of(job("a1", 1, JobState.RUNNING)));
    new JobStore(db, b).apply(List.of(job("b1", 2, JobState.RUNNING)));

    var routed = new Leases(b).route(Leases.KILL, List.of("a1", "b1"));
    assertThat(routed.here()).containsExactly("b1");
    assertThat(routed.sent()).containsExactly("a1");
    assertThat(b.commands()).isEmpty();
    var forA = a.commands();
    assertThat(forA).extracting(EngineLease.Command::jobId, EngineLease.Command::action)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("a1", "kill"));
    a.done(forA.stream().map(EngineLease.Command::id).toList());
    assertThat(a.commands()).isEmpty();
  }

  @Test
  void aQueuedJobItsEngineGaveAwayIsClaimedOnceByAnEngineWithRoomForItsCluster() {
    var a = engine(Duration.ofSeconds(30));
    var storeA = new JobStore(db, a);
    storeA.apply(List.of(job("q1", 1, JobState.QUEUED), job("q2", 2, JobState.QUEUED),
        job("q3", 3, JobState.QUEUED)));
    storeA.apply(List.of(new Change.ReleaseJob("q1", "slurm"), new Change.ReleaseJob("q2",
        "slurm"), new Change.ReleaseJob("q3", "condor")));
    var b = engine(Duration.ofSeconds(30));
    var c = engine(Duration.ofSeconds(30));

    assertThat(ids(storeA)).as("a holds none of them now").isEmpty();
    assertThat(b.claim(100, true).jobs()).as("not a takeover: the queue is shared").isEmpty();
    assertThat(b.claimQueued(java.util.Map.of("slurm", 1, "arc", 5)))
        .as("as many as b has room for, of its clusters, oldest first").containsExactly("q1");
    assertThat(c.claimQueued(java.util.Map.of("slurm", 5))).containsExactly("q2");
    assertThat(b.claimQueued(java.util.Map.of("slurm", 5))).as("each job once").isEmpty();
    assertThat(ids(new JobStore(db, b))).containsExactly("q1");
    assertThat(ids(new JobStore(db, c))).containsExactly("q2");
  }

  @Test
  void aCommandForAJobInTheSharedQueueMakesItTheJobOfTheEngineThatGotTheCommand() {
    var a = engine(Duration.ofSeconds(30));
    var storeA = new JobStore(db, a);
    storeA.apply(List.of(job("q1", 1, JobState.QUEUED)));
    storeA.apply(List.of(new Change.ReleaseJob("q1", "slurm")));
    var b = engine(Duration.ofSeconds(30));

    var routed = new Leases(b).route(Leases.KILL, List.of("q1"));
    assertThat(routed.claimed()).as("its manager adopts it, then kills it").containsExactly("q1");
    assertThat(routed.here()).containsExactly("q1");
    assertThat(routed.sent()).isEmpty();
    assertThat(a.claimQueued(java.util.Map.of("slurm", 5))).isEmpty();
  }

  @Test
  void aStoredKillWhoseJobItsOwnerReleasedMeanwhileGoesWithTheJobToTheEngineThatClaimsIt() {
    var a = engine(Duration.ofSeconds(30));
    var storeA = new JobStore(db, a);
    storeA.apply(List.of(job("q1", 1, JobState.QUEUED)));
    var b = engine(Duration.ofSeconds(30));
    assertThat(new Leases(b).route(Leases.KILL, List.of("q1")).sent()).containsExactly("q1");
    var forA = a.commands();
    assertThat(forA).hasSize(1);
    // a's manager had released q1 to the shared queue before the kill reached it: it did not act
    storeA.apply(List.of(new Change.ReleaseJob("q1", "slurm")));
    a.done(forA.stream().map(EngineLease.Command::id).toList());

    var c = engine(Duration.ofSeconds(30));
    assertThat(c.claimQueued(java.util.Map.of("slurm", 5))).containsExactly("q1");
    assertThat(c.commands()).as("the kill waits for the engine that claimed q1")
        .extracting(EngineLease.Command::jobId, EngineLease.Command::action)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("q1", "kill"));
  }

  @Test
  void cleanUpsAreCarriedOutByTheirEngineAndGoWithItsJobsToTheEngineThatTakesThemOver() {
    var a = engine(Duration.ofSeconds(1));
    var storeA = new JobStore(db, a);
    storeA.apply(List.of(job("a1", 1, JobState.RUNNING),
        new Change.InsertOutbox(7, "a1", "clean", "{}")));
    var b = engine(Duration.ofSeconds(30));
    var storeB = new JobStore(db, b);
    assertThat(storeA.outbox()).extracting(JobStore.OutboxEntry::id).containsExactly(7L);
    assertThat(storeB.outbox()).as("not b's").isEmpty();

    var claimed = new AtomicReference<EngineLease.Claimed>();
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      claimed.set(b.claim(100, true)); // a no longer renews
      return !claimed.get().isEmpty();
    });
    assertThat(claimed.get().cleanUps()).containsExactly(7L);
    assertThat(storeB.outbox()).extracting(JobStore.OutboxEntry::id).containsExactly(7L);
    assertThat(storeB.outbox(List.of(7L))).extracting(JobStore.OutboxEntry::jobId)
        .containsExactly("a1");
  }

  @Test
  void twoEnginesNeverHandOutTheSameSequenceNumberNorOneAlreadyStored() {
    new JobStore(db).apply(List.of(job("old", 4321, JobState.SUCCEEDED)));
    var storeA = new JobStore(db, engine(Duration.ofSeconds(30)));
    var storeB = new JobStore(db, engine(Duration.ofSeconds(30)));
    var seen = new HashSet<Long>();
    var all = new ArrayList<Long>();
    for (int i = 0; i < 2500; i++) {
      all.add(storeA.nextSeq(0));
      all.add(storeB.nextSeq(0));
      all.add(storeA.nextOutboxId(0) + 1_000_000_000L);
    }
    all.forEach(seen::add);
    assertThat(seen).as("no number twice").hasSize(all.size());
    assertThat(all).allMatch(n -> n > 4321);
  }

  @Test
  void aLapsedLeaseThatNoOneTookMakesWritesWaitUntilTheHeartbeatRenewsIt() {
    var a = engine(Duration.ofSeconds(1));
    var store = new JobStore(db, a);
    // an update of no row writes nothing: it fails only for the lease
    var nothing = new Change.UpdateJob(((Change.InsertJob) job("ghost", 9, JobState.QUEUED)).row());
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThatThrownBy(() -> store.apply(List.of(nothing)))
            .isInstanceOf(StoreUnavailableException.class)
            .hasMessageContaining("its writes wait until its heartbeat renews it"));
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
      assertThat(a.renew()).as("not fenced").isTrue(); // the heartbeat's part
      store.apply(List.of(job("a1", 1, JobState.QUEUED)));
    });
    assertThat(ids(store)).containsExactly("a1");
  }
}
