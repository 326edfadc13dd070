package org.jobyard.engine.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobSpec.Condition;
import org.jobyard.api.JobSpec.Dependency;
import org.jobyard.api.JobState;
import org.jobyard.engine.config.ClusterConfig;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.store.Database;
import org.jobyard.engine.store.JobQuery;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreWriter;
import org.jobyard.engine.transport.local.LocalTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job manager on an engine store, with a batch system in memory. */
class JobManagerTest {
  @TempDir
  Path home;
  final FakeBackend backend = new FakeBackend();
  final FakeBackend spareBackend = new FakeBackend();
  Running running;
  int limit;
  /** When set, unanswered cancels are sent again after this instead of 30 s. */
  Duration cancelResend;
  /** The pacing of cluster "fake". */
  ClusterConfig.Policy policy = ClusterConfig.Policy.DEFAULT;
  /** The engine's submit_batch. */
  int submitBatch = 100;

  /** The spec with {@code retries}, and stdout/stderr files under {@code logs} if not null. */
  static JobSpec spec(JobSpec s, int retries, Path logs) {
    return new JobSpec(s.name(), null, null, s.steps(), s.environment(), null,
        logs == null ? null : logs.resolve(s.name() + ".out").toString(),
        logs == null ? null : logs.resolve(s.name() + ".err").toString(), null, null, null,
        List.of(), List.of(), List.of(), retries, java.util.Map.of());
  }

  record Running(Database db, JobStore store, StoreWriter writer, JobManager manager,
      Thread writerThread, Thread managerThread, Cluster cluster) {
    void stop() throws Exception {
      if (writerThread.getState() == Thread.State.NEW) {
        writerThread.start();
      }
      manager.stop().get(30, TimeUnit.SECONDS);
      managerThread.join(10_000);
      writer.stop();
      writerThread.join(10_000);
      db.close();
    }

    /** A crash: the threads die without any orderly stop. */
    void kill() throws Exception {
      managerThread.interrupt();
      managerThread.join(10_000);
      writerThread.interrupt();
      writerThread.join(10_000);
      db.close();
    }
  }

  Running start() throws Exception {
    return start(true);
  }

  /** Where the engine keeps its jobs: embedded H2 here, PostgreSQL in a subclass. */
  EngineConfig.Database database() throws Exception {
    return ConfigLoader.defaults(home).database();
  }

  /** With {@code startWriter} false the store writer's thread is created but not started. */
  Running start(boolean startWriter) throws Exception {
    var tuning = new EngineConfig.Tuning(Duration.ofMillis(50), submitBatch, Duration.ofSeconds(2),
        Duration.ofMillis(100));
    var db = new Database(database());
    var store = new JobStore(db);
    var writer = new StoreWriter(store);
    var cluster = new Cluster("fake", "fake", backend, new LocalTransport(), limit,
        Duration.ofMillis(50), policy);
    var spare = new Cluster("spare", "fake", spareBackend, new LocalTransport(), 0,
        Duration.ofMillis(50));
    var manager = new JobManager(store, writer, tuning, List.of(cluster, spare),
        List.of("fake"));
    if (cancelResend != null) {
      manager.resendCancelsAfter(cancelResend);
    }
    var wt = startWriter ? Thread.ofPlatform().start(writer) : Thread.ofPlatform().unstarted(writer);
    var mt = Thread.ofPlatform().start(manager);
    await().until(manager::isReady);
    running = new Running(db, store, writer, manager, wt, mt, cluster);
    return running;
  }

  @AfterEach
  void tearDown() throws Exception {
    if (running != null && running.managerThread().isAlive()) {
      running.stop();
    }
  }

  /** Submits {@code n} jobs running {@code executable} in one request; returns their ids. */
  static List<String> submitMany(Running r, int n, String executable) throws Exception {
    var specs = java.util.stream.IntStream.range(0, n)
        .mapToObj(i -> JobSpec.of(executable + i, executable)).toList();
    return r.manager().submit("alice", specs).get(30, TimeUnit.SECONDS);
  }

  JobState stateOf(Running r, String id) {
    return r.store().job(id).orElseThrow().state();
  }

  @Test
  void runsJobsToTheirEndAndRecordsExitCodes() throws Exception {
    var r = start();
    var ids = r.manager().submit("alice", List.of(JobSpec.of("good", "ok"),
        JobSpec.of("bad", "fail"))).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, ids.get(0)).isTerminal()
        && stateOf(r, ids.get(1)).isTerminal());
    assertThat(stateOf(r, ids.get(0))).isEqualTo(JobState.SUCCEEDED);
    var bad = r.store().job(ids.get(1)).orElseThrow();
    assertThat(bad.state()).isEqualTo(JobState.FAILED);
    assertThat(bad.exitCode()).isEqualTo(3);
    assertThat(bad.reason()).contains("exited with code 3");
    assertThat(r.store().attempts(ids.get(1))).singleElement()
        .satisfies(a -> assertThat(a.nativeId()).isEqualTo(ids.get(1) + ".1"));
  }

  @Test
  void jobsReadyTogetherReachTheBackendInAsFewCallsAsSubmitBatchAllows() throws Exception {
    submitBatch = 64;
    var r = start();
    submitMany(r, 200, "pend");
    await().atMost(Duration.ofSeconds(60)).until(() -> backend.submits.get() == 200);
    // ceil(200 / 64) = 4: the first call is as full as the others, not one job
    assertThat(backend.submitCalls).hasValue(4);
    assertThat(backend.batchSizes).containsExactly(64, 64, 64, 8);
  }

  @Test
  void slotsFreedByJobsThatEndTogetherAreRefilledInOneSubmitCall() throws Exception {
    limit = 20;
    var r = start();
    var ids = submitMany(r, 40, "gate");
    await().atMost(Duration.ofSeconds(30)).until(() -> backend.submits.get() == 20);
    backend.gateOpen = true; // the next poll sees all 20 end
    await().atMost(Duration.ofSeconds(60))
        .until(() -> ids.stream().allMatch(id -> stateOf(r, id) == JobState.SUCCEEDED));
    // the 20 ends were one turn, which freed 20 slots at once: not 20 refills of one job each
    assertThat(backend.batchSizes).containsExactly(20, 20);
    // and each poll's ends were collected in one task, not one task per job
    assertThat(r.cluster().collectTasks).as("collect tasks for 2 x 20 jobs that end together")
        .isBetween(2L, 4L);
  }

  @Test
  void acknowledgedJobsAreInTheStoreBeforeTheReply() throws Exception {
    var r = start(false); // the store writer waits: nothing the manager sends is committed
    backend.down = true; // nothing can progress past QUEUED/SUBMITTING
    var reply = r.manager().submit("alice", List.of(JobSpec.of("a", "ok")));
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
        .until(() -> !reply.isDone());
    assertThat(r.store().find(JobQuery.all())).as("nothing committed yet").isEmpty();

    r.writerThread().start();
    var ids = reply.get(10, TimeUnit.SECONDS);
    assertThat(r.store().job(ids.getFirst())).isPresent();
  }

  @Test
  void retriesAFailedJobAsANewAttempt() throws Exception {
    var r = start();
    var spec = JobSpec.of("flaky", "fail");
    spec = new JobSpec(spec.name(), null, null, spec.steps(), spec.environment(), null, null,
        null, null, null, null, List.of(), List.of(), List.of(), 2, java.util.Map.of());
    var id = r.manager().submit("alice", List.of(spec)).get(10, TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id).isTerminal());
    assertThat(stateOf(r, id)).isEqualTo(JobState.FAILED);
    assertThat(r.store().attempts(id)).hasSize(3).allSatisfy(a -> {
      assertThat(a.exitCode()).as("attempt %d's exit", a.attempt()).isEqualTo(3);
      assertThat(a.endedAt()).as("attempt %d's end", a.attempt()).isNotNull()
          .isAfterOrEqualTo(a.createdAt());
    });
  }

  @Test
  void everyAttemptKeepsWhenItStartedAndEndedAfterTheJobEnds() throws Exception {
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("long", "run")))
        .get(10, TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.RUNNING);
    var running = r.store().attempts(id).getFirst();
    assertThat(running.startedAt()).isNotNull().isAfterOrEqualTo(running.createdAt());
    assertThat(running.endedAt()).isNull();
    r.manager().cancel(List.of(id)).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id).isTerminal());
    assertThat(r.store().attempts(id)).singleElement().satisfies(a -> {
      assertThat(a.startedAt()).isEqualTo(running.startedAt());
      assertThat(a.endedAt()).isNotNull().isAfterOrEqualTo(a.startedAt());
      assertThat(a.nativeId()).isEqualTo(id + ".1");
      assertThat(a.cluster()).isEqualTo("fake");
    });
  }

  @Test
  void cancelsARunningJob() throws Exception {
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("long", "hang"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, id) == JobState.RUNNING);
    assertThat(r.manager().cancel(List.of(id)).get(10, TimeUnit.SECONDS)).containsExactly(id);
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.CANCELLED);
  }

  /** A job that runs until cancelled, once it runs. */
  String runningJob(Running r) throws Exception {
    var id = r.manager().submit("alice", List.of(JobSpec.of("running", "hang")))
        .get(10, TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, id) == JobState.RUNNING);
    return id;
  }

  @Test
  void aSubmitStuckInItsStagingDelaysNeitherThePollsNorTheCancelsOfItsCluster() throws Exception {
    var r = start();
    var running = runningJob(r);
    var staging = new java.util.concurrent.CountDownLatch(1);
    backend.staging = staging;
    var calls = backend.submitCalls.get();
    var uploading = r.manager().submit("alice", List.of(JobSpec.of("uploading", "hang")))
        .get(10, TimeUnit.SECONDS).getFirst();
    await().until(() -> backend.submitsNow.get() == 1); // its submit waits in the staging
    try {
      var polls = backend.polls.get();
      await().atMost(Duration.ofSeconds(10)).until(() -> backend.polls.get() > polls + 3);
      r.manager().cancel(List.of(running, uploading)).get(10, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(10))
          .until(() -> stateOf(r, running) == JobState.CANCELLED);
      // the order kept for one job: no cancel before its submit has returned a native id
      assertThat(backend.cancels).containsOnlyKeys(running + ".1");
      assertThat(stateOf(r, uploading)).isEqualTo(JobState.CANCELLING);
      assertThat(backend.submitCalls).hasValue(calls); // still the first, unfinished call
    } finally {
      staging.countDown();
    }
    await().atMost(Duration.ofSeconds(10))
        .until(() -> stateOf(r, uploading) == JobState.CANCELLED);
    assertThat(backend.cancels.get(uploading + ".1")).as("its cancel, once submitted").hasValue(1);
    assertThat(backend.mostSubmitsAtOnce).as("submits one at a time").hasValue(1);
  }

  @Test
  void aCollectStuckBringingOutputsHomeDelaysNeitherThePollsNorTheCancelsOfItsCluster()
      throws Exception {
    var r = start();
    var running = runningJob(r);
    var collecting = new java.util.concurrent.CountDownLatch(1);
    backend.collecting = collecting;
    // with log files of its own, so that its sandbox is cleaned once its outputs are home
    var ended = r.manager().submit("alice", List.of(spec(JobSpec.of("ended", "ok"), 0, home)))
        .get(10, TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(10)).until(() -> backend.collectsNow.get() == 1);
    // its collect waits for the download
    try {
      var polls = backend.polls.get();
      await().atMost(Duration.ofSeconds(10)).until(() -> backend.polls.get() > polls + 3);
      r.manager().cancel(List.of(running)).get(10, TimeUnit.SECONDS);
      // the cancel reaches the batch system (its end then waits to be collected in turn)
      await().atMost(Duration.ofSeconds(10))
          .until(() -> backend.cancels.containsKey(running + ".1"));
      // the order kept for one job: no cleanup before its collect has returned
      assertThat(backend.cleaned).doesNotContainKey(ended + ".1");
      assertThat(stateOf(r, ended).isTerminal()).as("ended before its outputs are home").isFalse();
    } finally {
      collecting.countDown();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, ended) == JobState.SUCCEEDED
        && stateOf(r, running) == JobState.CANCELLED);
    await().atMost(Duration.ofSeconds(10)).until(() -> backend.cleaned.containsKey(ended + ".1"));
    assertThat(backend.collects).as("collected once, not again by the polls meanwhile").hasValue(2);
    assertThat(backend.mostCollectsAtOnce).as("collects one at a time").hasValue(1);
  }

  @Test
  void aClusterThatIsDownFailsNoJob() throws Exception {
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("long", "hang"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, id) == JobState.RUNNING);
    backend.down = true;
    var polls = backend.polls.get();
    await().until(() -> backend.polls.get() > polls + 5);
    assertThat(stateOf(r, id)).isEqualTo(JobState.RUNNING);
    backend.down = false;
    backend.jobs.put(id + ".1", "ok");
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.SUCCEEDED);
  }

  @Test
  void aRejectedJobFailsWithTheBackendsReason() throws Exception {
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("r", "reject"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.FAILED);
    assertThat(r.store().job(id).orElseThrow().reason()).contains("no such queue");
  }

  @Test
  void rejectsAnUnknownClusterWithoutStoringAnything() throws Exception {
    var r = start();
    var spec = JobSpec.of("x", "ok");
    spec = new JobSpec("x", null, null, spec.steps(), java.util.Map.of(), null, null, null, null,
        null, null, List.of(), List.of(), List.of("nowhere"), 0, java.util.Map.of());
    var future = r.manager().submit("alice", List.of(JobSpec.of("fine", "ok"), spec));
    assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).hasMessageContaining("nowhere");
    assertThat(r.store().find(JobQuery.all())).isEmpty();
  }

  @Test
  void aSubmissionWhoseAnswerWasLostIsLookedUpNotRepeated() throws Exception {
    var r = start();
    backend.failAfterSubmit = true;
    var id = r.manager().submit("alice", List.of(JobSpec.of("once", "hang"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> backend.submits.get() == 1);
    backend.failAfterSubmit = false;
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.RUNNING);
    assertThat(backend.submits.get()).isEqualTo(1);
  }

  @Test
  void afterACrashLiveJobsAreAdoptedAndNothingIsSubmittedTwice() throws Exception {
    var r = start();
    var ids = r.manager().submit("alice", List.of(JobSpec.of("a", "hang"),
        JobSpec.of("b", "hang"))).get(10, TimeUnit.SECONDS);
    await().until(() -> ids.stream().allMatch(id -> stateOf(r, id) == JobState.RUNNING));
    r.kill();
    running = null;
    // the batch system finished one job while the engine was down
    backend.jobs.put(ids.getFirst() + ".1", "ok");
    var r2 = start();
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r2, ids.getFirst())
        == JobState.SUCCEEDED);
    assertThat(stateOf(r2, ids.get(1))).isEqualTo(JobState.RUNNING);
    assertThat(backend.submits.get()).isEqualTo(2);
  }

  @Test
  void repliesFailAfterStopInsteadOfHanging() throws Exception {
    var r = start();
    r.stop();
    running = null;
    var future = r.manager().submit("alice", List.of(JobSpec.of("late", "ok")));
    assertThatThrownBy(() -> future.get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(ManagerStoppedException.class);
  }

  @Test
  void restartsADeadJobAsANewAttemptAndRefusesALiveOne() throws Exception {
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("x", "fail"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.FAILED);
    backend.jobs.put(id + ".2", "hang");
    assertThat(r.manager().restart(r.store().job(id).orElseThrow()).get(10, TimeUnit.SECONDS))
        .isEqualTo(id);
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.RUNNING);
    assertThat(r.store().attempts(id)).hasSize(2);
    var again = r.manager().restart(r.store().job(id).orElseThrow());
    assertThatThrownBy(() -> again.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(RejectedException.class).hasMessageContaining("still running");
  }

  @Test
  void flushRemovesDeadJobsAndCleansUpOnceButRefusesLiveOnes() throws Exception {
    var r = start();
    var ids = r.manager().submit("alice", List.of(JobSpec.of("done", "ok"),
        JobSpec.of("live", "hang"))).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, ids.get(0))
        == JobState.SUCCEEDED && stateOf(r, ids.get(1)) == JobState.RUNNING);
    var both = r.store().find(JobQuery.byIds(ids));
    var refused = r.manager().flush(both, java.util.Map.of());
    assertThatThrownBy(() -> refused.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(RejectedException.class).hasMessageContaining(ids.get(1));
    assertThat(r.store().find(JobQuery.byIds(ids))).hasSize(2);

    var dead = r.store().find(JobQuery.byIds(List.of(ids.get(0))));
    assertThat(r.manager().flush(dead, java.util.Map.of(ids.get(0),
        r.store().attempts(ids.get(0)))).get(10, TimeUnit.SECONDS)).containsExactly(ids.get(0));
    assertThat(r.store().job(ids.get(0))).isEmpty();
    await().until(() -> backend.cleaned.containsKey(ids.get(0) + ".1")
        && r.store().outbox().isEmpty());
    assertThat(backend.cleaned.get(ids.get(0) + ".1").get()).isEqualTo(1);
  }

  @Test
  void aCleanupPendingAtACrashStillHappensOnceAfterRestart() throws Exception {
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("done", "ok"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.SUCCEEDED);
    backend.cleanFails = true;
    r.manager().flush(r.store().find(JobQuery.byIds(List.of(id))),
        java.util.Map.of(id, r.store().attempts(id))).get(10, TimeUnit.SECONDS);
    assertThat(r.store().outbox()).hasSize(1);
    r.kill();
    running = null;
    backend.cleanFails = false;
    var r2 = start();
    await().atMost(Duration.ofSeconds(10)).until(() -> r2.store().outbox().isEmpty());
    assertThat(backend.cleaned.get(id + ".1").get()).isEqualTo(1);
  }

  @Test
  void pauseStopsARunningJobAndResumeRunsItAgain() throws Exception {
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("long", "hang"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, id) == JobState.RUNNING);
    assertThat(r.manager().pause(List.of(id)).get(10, TimeUnit.SECONDS)).containsExactly(id);
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.PAUSED);
    assertThat(r.manager().stats().liveByCluster().get("fake")).isZero();
    backend.jobs.put(id + ".2", "ok");
    assertThat(r.manager().resume(List.of(id)).get(10, TimeUnit.SECONDS)).containsExactly(id);
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.SUCCEEDED);
    assertThat(r.store().attempts(id)).hasSize(2);
  }

  @Test
  void aPausedQueuedJobIsNotSubmittedUntilResumed() throws Exception {
    limit = 1;
    var r = start();
    var first = r.manager().submit("alice", List.of(JobSpec.of("hog", "hang"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, first) == JobState.RUNNING);
    var id = r.manager().submit("alice", List.of(JobSpec.of("wait", "ok"))).get(10,
        TimeUnit.SECONDS).getFirst();
    assertThat(stateOf(r, id)).isEqualTo(JobState.QUEUED);
    assertThat(r.manager().pause(List.of(id)).get(10, TimeUnit.SECONDS)).containsExactly(id);
    assertThat(stateOf(r, id)).isEqualTo(JobState.PAUSED);
    r.manager().cancel(List.of(first)).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, first) == JobState.CANCELLED);
    // the freed slot goes to a job queued after the paused one: the paused one was passed over
    var later = r.manager().submit("alice", List.of(JobSpec.of("later", "ok"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, later) == JobState.SUCCEEDED);
    assertThat(stateOf(r, id)).isEqualTo(JobState.PAUSED);
    assertThat(backend.jobs).doesNotContainKey(id + ".1");
    r.manager().resume(List.of(id)).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.SUCCEEDED);
  }

  @Test
  void triesTheJobsClustersInOrderUntilOneAcceptsIt() throws Exception {
    var r = start();
    var base = JobSpec.of("x", "reject");
    var spec = new JobSpec("picky", null, null, base.steps(), java.util.Map.of(), null, null,
        null, null, null, null, List.of(), List.of(), List.of("fake", "spare"), 0,
        java.util.Map.of());
    spareBackend.jobs.clear();
    var id = r.manager().submit("alice", List.of(spec)).get(10, TimeUnit.SECONDS).getFirst();
    // "reject" is refused by every fake cluster: both are tried, in order, then the job fails
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.FAILED);
    assertThat(r.store().attempts(id)).extracting(a -> a.cluster())
        .containsExactly("fake", "spare");
    assertThat(r.store().job(id).orElseThrow().reason()).contains("cluster 'spare'");
  }

  @Test
  void aClusterThatIsDownPassesTheJobToTheNextOne() throws Exception {
    var r = start();
    backend.downForSubmitOnly = true;
    var base = JobSpec.of("x", "ok");
    var spec = new JobSpec("mobile", null, null, base.steps(), java.util.Map.of(), null, null,
        null, null, null, null, List.of(), List.of(), List.of("fake", "spare"), 0,
        java.util.Map.of());
    var id = r.manager().submit("alice", List.of(spec)).get(10, TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.SUCCEEDED);
    assertThat(r.store().attempts(id)).extracting(a -> a.cluster()).containsExactly("fake",
        "spare");
  }

  @Test
  void aClusterThatKeepsSayingNotNowIsAskedAgainOnlyAfterItsBackOff() throws Exception {
    var r = start();
    backend.downForSubmitOnly = true;
    var id = r.manager().submit("alice", List.of(JobSpec.of("patient", "ok"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> backend.submitCalls.get() >= 2);
    var started = System.nanoTime();
    var calls = backend.submitCalls.get();
    await().atMost(Duration.ofSeconds(10)).until(() -> backend.submitCalls.get() >= calls + 3);
    // three more calls at a 100 ms back-off take at least ~200 ms; a hot loop takes microseconds
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThan(Duration.ofMillis(150));
    backend.downForSubmitOnly = false;
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.SUCCEEDED);
  }

  @Test
  void restartsASucceededJobToo() throws Exception {
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("again", "ok"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.SUCCEEDED);
    backend.down = true; // the new attempt cannot get past submitting, let alone succeed
    r.manager().restart(r.store().job(id).orElseThrow()).get(10, TimeUnit.SECONDS);
    assertThat(stateOf(r, id)).as("answered after the restart was committed")
        .isIn(JobState.QUEUED, JobState.SUBMITTING);
    backend.down = false;
    await().atMost(Duration.ofSeconds(10)).until(() -> r.store().attempts(id).size() == 2
        && stateOf(r, id) == JobState.SUCCEEDED);
  }

  @Test
  void aJobBeingCancelledKeepsItsBackendAttributesWhenItsNativeStateChanges() throws Exception {
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("slow", "hang"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, id) == JobState.RUNNING);
    backend.ignoreCancel = true;
    r.manager().cancel(List.of(id)).get(10, TimeUnit.SECONDS);
    backend.jobs.put(id + ".1", "pend"); // requeued by the batch system while cancelling
    await().atMost(Duration.ofSeconds(10)).until(() ->
        "PENDING".equals(r.store().attempts(id).getFirst().nativeState()));
    // the plugin's document must survive: after a restart it is all the plugin has
    assertThat(r.store().attempts(id).getFirst().attributes()).contains("\"tag\"");
  }

  @Test
  void aRecoveredJobKeepsItsBackendAttributesAsStoredThroughItsNextWrite() throws Exception {
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("long", "hang"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, id) == JobState.RUNNING);
    var stored = r.store().attempts(id).getFirst().attributes();
    assertThat(stored).contains("\"tag\"");
    r.stop();

    var again = start(); // recovery adopts the attempt from the stored document
    backend.jobs.put(id + ".1", "pend"); // a change the manager writes to the attempt
    await().atMost(Duration.ofSeconds(10)).until(() ->
        "PENDING".equals(again.store().attempts(id).getFirst().nativeState()));
    assertThat(again.store().attempts(id).getFirst().attributes())
        .as("the plugin's document, written back as it was read").isEqualTo(stored);
  }

  // ---- the engine's side of the plugin guide's contract --------------------------------------

  @Test
  void aJobNoSourceAccountsForIsFailedAsLostAfterLostAfter() throws Exception {
    var r = start(); // lost_after is 2 s here
    var id = r.manager().submit("alice", List.of(JobSpec.of("gone", "hang"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, id) == JobState.RUNNING);
    var polls = backend.polls.get();

    backend.jobs.remove(id + ".1"); // from now on every poll says Unknown

    await().atMost(Duration.ofSeconds(20)).until(() -> stateOf(r, id) == JobState.FAILED);
    assertThat(backend.polls.get() - polls).as("polls that saw it Unknown first")
        .isGreaterThan(1);
    assertThat(r.store().job(id).orElseThrow().reason()).contains("lost on cluster 'fake'")
        .contains("not in listing");
  }

  @Test
  void aJobMissingFromThePollResultIsLostAfterLostAfterAndItsAttemptCancelledOnce()
      throws Exception {
    var r = start(); // lost_after is 2 s here
    var id = r.manager().submit("alice", List.of(JobSpec.of("skipped", "hang"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, id) == JobState.RUNNING);
    var since = System.nanoTime();

    backend.omitted.add(id + ".1"); // the cluster answers every poll, never about this job

    await().atMost(Duration.ofSeconds(30)).until(() -> stateOf(r, id) == JobState.FAILED);
    // its tag is still found by a lookup, so it gets a second lost_after before it is lost
    assertThat(Duration.ofNanos(System.nanoTime() - since)).isGreaterThan(Duration.ofSeconds(4));
    assertThat(r.store().job(id).orElseThrow().reason()).contains("lost on cluster 'fake'")
        .contains("answered the poll without this job");
    await().atMost(Duration.ofSeconds(10)).until(() -> r.store().outbox().isEmpty());
    assertThat(backend.cancels.get(id + ".1")).as("cancels of the abandoned attempt").hasValue(1);
  }

  @Test
  void aRetriedJobsLostAttemptIsCancelledExactlyOnceAlsoAcrossACrash() throws Exception {
    var r = start();
    var id = r.manager().submit("alice", List.of(spec(JobSpec.of("twice", "hang"), 1, null)))
        .get(10, TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, id) == JobState.RUNNING);
    backend.cancelDown = true; // the cancel of the abandoned attempt cannot get through yet
    backend.jobs.remove(id + ".1"); // the batch system forgot it: lost, then retried

    await().atMost(Duration.ofSeconds(30)).until(() -> r.store().attempts(id).size() == 2
        && stateOf(r, id) == JobState.RUNNING);
    assertThat(r.store().outbox()).as("the cancel, recorded before the retry was submitted")
        .singleElement().satisfies(e -> assertThat(e.payload()).contains(id + ".1"));
    r.kill();
    running = null;
    backend.cancelDown = false;

    var r2 = start();
    await().atMost(Duration.ofSeconds(20)).until(() -> r2.store().outbox().isEmpty());
    assertThat(backend.cancels.get(id + ".1")).as("cancels of the abandoned attempt").hasValue(1);
    assertThat(backend.cancels).as("the retry is left running").doesNotContainKey(id + ".2");
    assertThat(stateOf(r2, id)).isEqualTo(JobState.RUNNING);
  }

  @Test
  void aCancelTheBatchSystemIgnoredIsSentAgain() throws Exception {
    cancelResend = Duration.ofMillis(300);
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("stubborn", "hang"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, id) == JobState.RUNNING);
    backend.ignoreCancel = true;

    r.manager().cancel(List.of(id)).get(10, TimeUnit.SECONDS);

    await().atMost(Duration.ofSeconds(20)).until(() -> backend.cancelCalls.get() >= 3);
    assertThat(stateOf(r, id)).isEqualTo(JobState.CANCELLING);
    backend.ignoreCancel = false;
    await().atMost(Duration.ofSeconds(20)).until(() -> stateOf(r, id) == JobState.CANCELLED);
  }

  @Test
  void aPendingJobIsPausedAndResumedThroughHoldAndReleaseWhenTheBackendHasThem()
      throws Exception {
    backend.capabilities = java.util.EnumSet.of(org.jobyard.api.Capability.BULK_SUBMIT,
        org.jobyard.api.Capability.HOLD_RELEASE);
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("waiting", "pend"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, id) == JobState.PENDING);

    r.manager().pause(List.of(id)).get(10, TimeUnit.SECONDS);

    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.PAUSED);
    assertThat(backend.held).containsExactly(id + ".1");
    assertThat(backend.cancelCalls).as("held, not cancelled").hasValue(0);

    backend.jobs.put(id + ".1", "ok"); // once released it runs and succeeds
    r.manager().resume(List.of(id)).get(10, TimeUnit.SECONDS);

    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.SUCCEEDED);
    assertThat(backend.releases).hasValue(1);
    assertThat(r.store().attempts(id)).as("the same attempt, not a new submission").hasSize(1);
  }

  @Test
  void aPendingJobIsStoppedWhenTheBackendCannotHoldIt() throws Exception {
    var r = start(); // the fake declares no HOLD_RELEASE by default
    var id = r.manager().submit("alice", List.of(JobSpec.of("waiting", "pend"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, id) == JobState.PENDING);

    r.manager().pause(List.of(id)).get(10, TimeUnit.SECONDS);

    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.PAUSED);
    assertThat(backend.held).isEmpty();
    assertThat(backend.cancelCalls.get()).isPositive();
  }

  @Test
  void aBackendBugInSubmitFailsTheJobWithoutRetrying() throws Exception {
    var r = start();
    backend.submitBug = new IllegalStateException("plugin bug");
    var id = r.manager().submit("alice", List.of(JobSpec.of("x", "ok"))).get(10,
        TimeUnit.SECONDS).getFirst();

    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.FAILED);
    assertThat(r.store().job(id).orElseThrow().reason()).contains("plugin bug");
    assertThat(backend.submitCalls).as("not retried").hasValue(1);
    assertThat(backend.lookupCalls).as("looked up first: a bug may strike after the job was "
        + "taken").hasPositiveValue();
  }

  @Test
  void aNonRetryableSubmitErrorFailsTheJobWithItsMessage() throws Exception {
    var r = start();
    backend.submitError = org.jobyard.api.BackendException.rejected("account proj9 is closed");
    var id = r.manager().submit("alice", List.of(JobSpec.of("x", "ok"))).get(10,
        TimeUnit.SECONDS).getFirst();

    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.FAILED);
    assertThat(r.store().job(id).orElseThrow().reason()).contains("account proj9 is closed");
    assertThat(backend.submitCalls).as("not retried").hasValue(1);
  }

  @Test
  void noMoreThanMaxJobsRunOnAClusterAtOnce() throws Exception {
    limit = 2;
    var r = start();
    var ids = r.manager().submit("alice", List.of(JobSpec.of("a", "hang"), JobSpec.of("b",
        "hang"), JobSpec.of("c", "hang"))).get(10, TimeUnit.SECONDS);
    await().until(() -> stateOf(r, ids.get(0)) == JobState.RUNNING
        && stateOf(r, ids.get(1)) == JobState.RUNNING);
    var polls = backend.polls.get();
    await().until(() -> backend.polls.get() > polls + 3); // cycles in which c could have gone

    assertThat(stateOf(r, ids.get(2))).isEqualTo(JobState.QUEUED);
    assertThat(backend.submits).hasValue(2);

    r.manager().cancel(List.of(ids.get(0))).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, ids.get(2))
        == JobState.RUNNING);
  }

  @Test
  void outputsThatCannotBeCollectedFailAnOtherwiseSuccessfulJob() throws Exception {
    var r = start();
    backend.collectError = org.jobyard.api.BackendException.rejected("result.json: no such file");
    var id = r.manager().submit("alice", List.of(JobSpec.of("x", "ok"))).get(10,
        TimeUnit.SECONDS).getFirst();

    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id).isTerminal());
    assertThat(stateOf(r, id)).isEqualTo(JobState.FAILED);
    assertThat(r.store().job(id).orElseThrow().reason()).contains("outputs not collected")
        .contains("result.json");
  }

  @Test
  void outputsThatCannotBeCollectedYetAreCollectedAgain() throws Exception {
    var r = start();
    backend.collectError = org.jobyard.api.BackendException.unavailable("login node away", null);
    var id = r.manager().submit("alice", List.of(JobSpec.of("x", "ok"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(10)).until(() -> backend.collects.get() >= 2);
    assertThat(stateOf(r, id).isTerminal()).isFalse();

    backend.collectError = null;

    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.SUCCEEDED);
  }

  @Test
  void aJobCancelledWhileQueuedNeverReachesTheBackend() throws Exception {
    limit = 1;
    var r = start();
    var hog = r.manager().submit("alice", List.of(JobSpec.of("hog", "hang"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, hog) == JobState.RUNNING);
    var id = r.manager().submit("alice", List.of(JobSpec.of("queued", "ok"))).get(10,
        TimeUnit.SECONDS).getFirst();

    assertThat(r.manager().cancel(List.of(id)).get(10, TimeUnit.SECONDS)).containsExactly(id);

    assertThat(stateOf(r, id)).isEqualTo(JobState.CANCELLED);
    assertThat(r.store().job(id).orElseThrow().reason()).contains("before it was submitted");
    r.manager().cancel(List.of(hog)).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, hog) == JobState.CANCELLED);
    assertThat(backend.jobs).doesNotContainKey(id + ".1");
  }

  @Test
  void aJobTheBatchSystemFailedIsFailedWithoutAnExitCode() throws Exception {
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("doomed", "crash"))).get(10,
        TimeUnit.SECONDS).getFirst();

    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.FAILED);
    var row = r.store().job(id).orElseThrow();
    assertThat(row.exitCode()).isNull();
    assertThat(row.reason()).contains("the node died");
  }

  @Test
  void aNonZeroExitSaysItsCodeAndTheBatchSystemsReasonWhenThereIsOne() throws Exception {
    var r = start();
    var ids = r.manager().submit("alice", List.of(JobSpec.of("plain", "fail"),
        JobSpec.of("killed", "oom"))).get(10, TimeUnit.SECONDS);

    await().atMost(Duration.ofSeconds(10))
        .until(() -> ids.stream().allMatch(id -> stateOf(r, id) == JobState.FAILED));
    assertThat(r.store().job(ids.get(0)).orElseThrow().reason()).isEqualTo("exited with code 3");
    assertThat(r.store().job(ids.get(1)).orElseThrow().reason())
        .isEqualTo("exited with code 137 (out of memory)");
  }

  @Test
  void aJobTheBatchSystemFailedWithExitCodeZeroKeepsThatCode() throws Exception {
    // a batch system may record exit 0 for a failure it knows of (a time limit): the code is kept
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("late", "timeout"))).get(10,
        TimeUnit.SECONDS).getFirst();

    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.FAILED);
    var row = r.store().job(id).orElseThrow();
    assertThat(row.exitCode()).isZero();
    assertThat(row.reason()).contains("time limit reached");
  }

  @Test
  void aJobCancelledOutsideJobyardEndsCancelled() throws Exception {
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("victim", "hang"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, id) == JobState.RUNNING);

    backend.cancelled.put(id + ".1", true); // an operator's scancel

    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.CANCELLED);
    assertThat(r.store().job(id).orElseThrow().reason()).contains("outside Jobyard");
    assertThat(r.store().attempts(id)).as("not retried").hasSize(1);
  }

  /** Jobs that wait for others ({@code after}): issue 20. */
  @Nested
  class Dependencies {
    JobSpec job(String name, String exe, Dependency... after) {
      return JobSpec.of(name, exe).withAfter(List.of(after));
    }

    Dependency on(String name) {
      return new Dependency(name, Condition.SUCCESS);
    }

    @Test
    void aJobWaitsUntilItsDependencySucceededThenRuns() throws Exception {
      var r = start();
      var ids = r.manager().submit("alice", List.of(job("second", "ok", on("first")),
          job("first", "hang"))).get(10, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, ids.get(1)) == JobState.RUNNING);
      var waiting = r.store().job(ids.get(0)).orElseThrow();
      assertThat(waiting.state()).isEqualTo(JobState.QUEUED);
      assertThat(waiting.reason()).isEqualTo("waiting for 'first' (" + ids.get(1) + ")");
      assertThat(backend.jobs).doesNotContainKey(ids.get(0) + ".1");

      backend.jobs.put(ids.get(1) + ".1", "ok");
      await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, ids.get(0)) == JobState.SUCCEEDED);
      assertThat(String.valueOf(r.store().job(ids.get(0)).orElseThrow().reason()))
          .doesNotContain("waiting");
      // the stored edge names the dependency by id, so it survives a restart
      assertThat(r.store().job(ids.get(0)).orElseThrow().spec()).contains(ids.get(1));
    }

    @Test
    void aJobWhoseDependencyFailedIsCancelledWithTheReasonAndSoAreItsOwnDependents()
        throws Exception {
      var r = start();
      var ids = r.manager().submit("alice", List.of(job("prep", "fail"),
          job("compute", "ok", on("prep")), job("report", "ok", on("compute"))))
          .get(10, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, ids.get(2)).isTerminal());
      var compute = r.store().job(ids.get(1)).orElseThrow();
      assertThat(compute.state()).isEqualTo(JobState.CANCELLED);
      assertThat(compute.reason()).isEqualTo("dependency 'prep' (" + ids.get(0) + ") failed");
      assertThat(r.store().job(ids.get(2)).orElseThrow().reason())
          .isEqualTo("dependency 'compute' (" + ids.get(1) + ") cancelled");
      assertThat(r.store().attempts(ids.get(1))).isEmpty();
    }

    @Test
    void conditionsAnyAndFailureRunAfterAFailedJob() throws Exception {
      var r = start();
      var ids = r.manager().submit("alice", List.of(job("prep", "fail"),
          job("cleanup", "ok", new Dependency("prep", Condition.ANY)),
          job("alert", "ok", new Dependency("prep", Condition.FAILURE)),
          job("next", "ok", on("prep")))).get(10, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(10)).until(() -> ids.stream()
          .allMatch(id -> stateOf(r, id).isTerminal()));
      assertThat(stateOf(r, ids.get(1))).isEqualTo(JobState.SUCCEEDED);
      assertThat(stateOf(r, ids.get(2))).isEqualTo(JobState.SUCCEEDED);
      assertThat(stateOf(r, ids.get(3))).isEqualTo(JobState.CANCELLED);
    }

    @Test
    void aSweepFansOutAfterOneJobAndOneJobFansInAfterTheSweep() throws Exception {
      var r = start();
      var specs = new java.util.ArrayList<JobSpec>();
      specs.add(job("prep", "ok"));
      for (int i = 1; i <= 4; i++) {
        specs.add(job("fit-" + i, "ok", on("prep")));
      }
      specs.add(job("merge", "ok", on("fit-*")));
      var ids = r.manager().submit("alice", specs).get(10, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(20)).until(() -> stateOf(r, ids.getLast()).isTerminal());
      assertThat(ids).allSatisfy(id -> assertThat(stateOf(r, id)).isEqualTo(JobState.SUCCEEDED));
      var rows = r.store().find(JobQuery.byIds(ids));
      var merge = r.store().attempts(ids.getLast()).getFirst();
      for (int i = 1; i <= 4; i++) {
        var fit = r.store().attempts(ids.get(i)).getFirst();
        assertThat(fit.createdAt()).isAfterOrEqualTo(r.store().attempts(ids.getFirst()).getFirst()
            .endedAt());
        assertThat(merge.createdAt()).isAfterOrEqualTo(fit.endedAt());
      }
      assertThat(rows).hasSize(6);
    }

    @Test
    void aJobMayWaitForAnEarlierJobByIdButAnUnknownIdStoresNothing() throws Exception {
      var r = start();
      var first = r.manager().submit("alice", List.of(job("first", "ok"))).get(10, TimeUnit.SECONDS)
          .getFirst();
      await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, first) == JobState.SUCCEEDED);
      var later = r.manager().submit("alice", List.of(job("later", "ok", on(first))))
          .get(10, TimeUnit.SECONDS).getFirst();
      await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, later) == JobState.SUCCEEDED);

      var future = r.manager().submit("alice", List.of(job("fine", "ok"),
          job("orphan", "ok", on("jy-000000000000"))));
      assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class).hasMessageContaining("jy-000000000000")
          .hasMessageContaining("'orphan'").hasMessageContaining("field 'after'");
      assertThat(r.store().find(JobQuery.all())).hasSize(2);
    }

    @Test
    void cancellingAWaitingJobNeverSubmitsItAndCancelsWhatWaitsForIt() throws Exception {
      var r = start();
      var ids = r.manager().submit("alice", List.of(job("first", "hang"),
          job("second", "ok", on("first")), job("third", "ok", on("second"))))
          .get(10, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, ids.get(0)) == JobState.RUNNING);
      r.manager().cancel(List.of(ids.get(1))).get(10, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, ids.get(2)).isTerminal());
      assertThat(stateOf(r, ids.get(1))).isEqualTo(JobState.CANCELLED);
      assertThat(stateOf(r, ids.get(2))).isEqualTo(JobState.CANCELLED);
      assertThat(stateOf(r, ids.get(0))).isEqualTo(JobState.RUNNING);
      assertThat(backend.submits.get()).isEqualTo(1);
    }

    @Test
    void aWaitingChainSurvivesACrashAndRunsEachJobOnceInOrder() throws Exception {
      var r = start();
      var ids = r.manager().submit("alice", List.of(job("a", "hang"), job("b", "ok", on("a")),
          job("c", "ok", on("b")))).get(10, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, ids.get(0)) == JobState.RUNNING);
      r.kill();
      running = null;
      backend.jobs.put(ids.get(0) + ".1", "ok"); // a ended while the engine was down
      var r2 = start();
      await().atMost(Duration.ofSeconds(20)).until(() -> stateOf(r2, ids.get(2)).isTerminal());
      assertThat(ids).allSatisfy(id -> assertThat(stateOf(r2, id)).isEqualTo(JobState.SUCCEEDED));
      assertThat(backend.submits.get()).isEqualTo(3);
      var b = r2.store().attempts(ids.get(1)).getFirst();
      var c = r2.store().attempts(ids.get(2)).getFirst();
      assertThat(c.createdAt()).isAfterOrEqualTo(b.endedAt());
    }
  }

  /** retry_on, retry_elsewhere and success_exit_codes: issue 20. */
  @Nested
  class RetryRules {
    JobSpec job(String exe, int retries, JobSpec.RetryRule rule, List<Integer> success,
        String... clusters) {
      var s = JobSpec.of("rules", exe);
      return new JobSpec(s.name(), null, null, s.steps(), java.util.Map.of(), null, null, null,
          null, null, null, List.of(), List.of(), List.of(clusters), retries, java.util.Map.of(),
          List.of(), rule, success);
    }

    String runToEnd(JobSpec spec) throws Exception {
      var r = running == null ? start() : running;
      var id = r.manager().submit("alice", List.of(spec)).get(10, TimeUnit.SECONDS).getFirst();
      await().atMost(Duration.ofSeconds(20)).until(() -> stateOf(r, id).isTerminal());
      return id;
    }

    @Test
    void retriesOnlyTheExitCodesAndLossesItIsToldTo() throws Exception {
      var lostOnly = new JobSpec.RetryRule(List.of(), true, false);
      var exited = runToEnd(job("fail", 2, lostOnly, List.of()));
      assertThat(running.store().attempts(exited)).hasSize(1);
      assertThat(running.store().job(exited).orElseThrow().exitCode()).isEqualTo(3);
      var crashed = runToEnd(job("crash", 2, lostOnly, List.of()));
      assertThat(running.store().attempts(crashed)).hasSize(3);
      var three = runToEnd(job("fail", 1, new JobSpec.RetryRule(List.of(3), false, false),
          List.of()));
      assertThat(running.store().attempts(three)).hasSize(2);
    }

    @Test
    void anExitCodeListedAsSuccessSucceedsWithThatCode() throws Exception {
      var id = runToEnd(job("fail", 2, null, List.of(0, 3)));
      var row = running.store().job(id).orElseThrow();
      assertThat(row.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(row.exitCode()).isEqualTo(3);
      assertThat(running.store().attempts(id)).hasSize(1);
    }

    @Test
    void eachRetryWaitsItsDelayTimesTheBackoffAfterTheFailedAttemptEnded() throws Exception {
      var rule = new JobSpec.RetryRule(List.of(), false, false, Duration.ofSeconds(1), 2);
      var id = runToEnd(job("fail", 2, rule, List.of()));
      var attempts = running.store().attempts(id);
      assertThat(attempts).hasSize(3);
      assertThat(Duration.between(attempts.get(0).endedAt(), attempts.get(1).createdAt()))
          .as("first retry: the delay").isGreaterThanOrEqualTo(Duration.ofSeconds(1));
      assertThat(Duration.between(attempts.get(1).endedAt(), attempts.get(2).createdAt()))
          .as("second retry: twice the delay").isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void aRetryWaitingForItsDelayStillWaitsItAfterARestart() throws Exception {
      var r = start();
      var rule = new JobSpec.RetryRule(List.of(), false, false, Duration.ofSeconds(4), 1);
      var id = r.manager().submit("alice", List.of(job("fail", 1, rule, List.of())))
          .get(10, TimeUnit.SECONDS).getFirst();
      await().atMost(Duration.ofSeconds(20)).until(() -> r.store().job(id).orElseThrow()
          .reason() != null && r.store().job(id).orElseThrow().reason().contains("not before"));
      assertThat(stateOf(r, id)).isEqualTo(JobState.QUEUED);
      r.stop();

      var again = start();
      await().atMost(Duration.ofSeconds(30)).until(() -> stateOf(again, id).isTerminal());
      var attempts = again.store().attempts(id);
      assertThat(attempts).hasSize(2);
      assertThat(Duration.between(attempts.get(0).endedAt(), attempts.get(1).createdAt()))
          .as("the retry after the restart still waited the whole delay")
          .isGreaterThanOrEqualTo(Duration.ofSeconds(4));
    }

    @Test
    void aRetryElsewhereGoesToTheNextClusterThenBackToTheFirst() throws Exception {
      var id = runToEnd(job("fail", 2, new JobSpec.RetryRule(List.of(), false, true), List.of(),
          "fake", "spare"));
      assertThat(running.store().attempts(id)).extracting(a -> a.cluster())
          .containsExactly("fake", "spare", "fake");
    }
  }

  @Test
  void aPlacementFieldTheClustersBackendCannotHonourIsRefusedNamingClusterAndFieldStoringNothing()
      throws Exception {
    backend.capabilities = java.util.Set.of(org.jobyard.api.Capability.BULK_SUBMIT,
        org.jobyard.api.Capability.PROCESSES);
    var r = start();
    var wide = JobSpec.of("wide", "ok").withPlacement(new JobSpec.Placement(8, 2, false, null, 0));
    var disk = JobSpec.of("scratch", "ok")
        .withPlacement(new JobSpec.Placement(0, 0, true, null, 1024));

    assertThatThrownBy(() -> r.manager().submit("alice", List.of(wide, disk))
        .get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(RejectedException.class)
        .hasMessageContaining("job 2 ('scratch'): fields resources.exclusive, resources.disk "
            + "not supported by cluster 'fake' (backend fake)");
    assertThat(r.store().find(JobQuery.all())).as("nothing stored").isEmpty();

    var id = r.manager().submit("alice", List.of(wide)).get(10, TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(20)).until(() -> stateOf(r, id) == JobState.SUCCEEDED);
  }

  @Test
  void aJobHeldByTheBatchSystemFailsAfterHeldTimeoutWithTheHoldReason() throws Exception {
    policy = new ClusterConfig.Policy(Duration.ofSeconds(1), 0, 0, false);
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("stuck", "pend"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, id) == JobState.PENDING);
    backend.held.add(id + ".1"); // held by the batch system, nobody asked for it

    await().atMost(Duration.ofSeconds(20)).until(() -> stateOf(r, id) == JobState.FAILED);
    assertThat(r.store().job(id).orElseThrow().reason())
        .contains("held by cluster 'fake' for longer than its held_timeout (1s)")
        .contains("JobHeldUser");
    await().atMost(Duration.ofSeconds(10)).until(() -> r.store().outbox().isEmpty());
    assertThat(backend.cancels.get(id + ".1")).as("the held attempt is cancelled").hasValue(1);
  }

  @Test
  void aJobTheUserPausedStaysHeldPastHeldTimeout() throws Exception {
    policy = new ClusterConfig.Policy(Duration.ofMillis(500), 0, 0, false);
    backend.capabilities = java.util.Set.of(org.jobyard.api.Capability.BULK_SUBMIT,
        org.jobyard.api.Capability.HOLD_RELEASE);
    var r = start();
    var id = r.manager().submit("alice", List.of(JobSpec.of("waits", "pend"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().until(() -> stateOf(r, id) == JobState.PENDING);
    r.manager().pause(List.of(id)).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(r, id) == JobState.PAUSED);

    var polls = backend.polls.get();
    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
        .until(() -> stateOf(r, id) == JobState.PAUSED);
    assertThat(backend.polls.get() - polls).as("polls that saw it held").isGreaterThan(5);
    assertThat(backend.cancels).isEmpty();
  }

  @Test
  void aClusterWithASubmitRateNeverGetsJobsFasterThanThat() throws Exception {
    policy = new ClusterConfig.Policy(null, 5, 0, false);
    var r = start();
    var specs = new java.util.ArrayList<JobSpec>();
    for (int i = 0; i < 15; i++) {
      specs.add(JobSpec.of("paced-" + i, "ok"));
    }
    r.manager().submit("alice", specs).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> backend.submittedAt.size() == 15);

    var at = List.copyOf(backend.submittedAt);
    // 5 a second, and never more than one burst (a fifth of a second's worth) ahead of that
    for (int i = 0; i < at.size(); i++) {
      for (int j = i + 1; j < at.size(); j++) {
        var seconds = (at.get(j) - at.get(i)) / 1e9;
        assertThat(j - i).as("jobs %d..%d came within %.3fs", i, j, seconds)
            .isLessThanOrEqualTo((int) Math.floor(seconds * 5 + 1.001));
      }
    }
  }

  @Test
  void noMoreThanMaxPendingJobsWaitInTheBatchSystemsQueue() throws Exception {
    policy = new ClusterConfig.Policy(null, 0, 2, false);
    var r = start();
    var specs = new java.util.ArrayList<JobSpec>();
    for (int i = 0; i < 5; i++) {
      specs.add(JobSpec.of("queued-" + i, "pend"));
    }
    var ids = r.manager().submit("alice", specs).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> backend.submits.get() == 2);
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
        .until(() -> backend.submits.get() == 2);

    backend.jobs.replaceAll((tag, exe) -> "hang"); // the two start running: room for two more
    await().atMost(Duration.ofSeconds(10)).until(() -> backend.submits.get() == 4);
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
        .until(() -> backend.submits.get() == 4);
    assertThat(ids.stream().filter(id -> stateOf(r, id) == JobState.QUEUED)).hasSize(1);
  }

  @Test
  void aSucceededJobsSandboxIsCleanedOnceUnlessTheClusterKeepsSandboxes() throws Exception {
    var r = start();
    var ids = r.manager().submit("alice", List.of(spec(JobSpec.of("tidy", "ok"), 0, home),
        spec(JobSpec.of("failing", "fail"), 0, home), JobSpec.of("no-log-file", "ok")))
        .get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> ids.stream()
        .allMatch(id -> stateOf(r, id).isTerminal()) && r.store().outbox().isEmpty());
    assertThat(backend.cleaned.get(ids.get(0) + ".1")).hasValue(1);
    assertThat(backend.cleaned).as("a failed job's sandbox is kept for a look; a job without "
        + "its own log files keeps its only log").containsOnlyKeys(ids.get(0) + ".1");
    r.stop();
    running = null;

    policy = new ClusterConfig.Policy(null, 0, 0, true);
    var kept = start();
    var id = kept.manager().submit("alice", List.of(spec(JobSpec.of("debug-me", "ok"), 0, home)))
        .get(10, TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(kept, id) == JobState.SUCCEEDED);
    assertThat(kept.store().outbox()).isEmpty();
    assertThat(backend.cleaned).doesNotContainKey(id + ".1");
  }
}
