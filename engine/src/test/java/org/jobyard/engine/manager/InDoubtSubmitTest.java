package org.jobyard.engine.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.store.Database;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreWriter;
import org.jobyard.engine.transport.local.LocalTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/**
 * Every way a submit can end without saying whether the batch system took the job leads to a
 * lookup by tag, never to a second submit of the same attempt: one native job per attempt.
 */
class InDoubtSubmitTest {
  @TempDir
  Path home;
  final LosesAnswers backend = new LosesAnswers();
  final ListAppender<ILoggingEvent> log = new ListAppender<>();
  Database db;
  StoreWriter writer;
  JobStore store;
  JobManager manager;
  Thread writerThread;
  Thread managerThread;

  /** How the next submit call ends after the batch system took its jobs. */
  enum Loss { NONE, IN_DOUBT, RETRYABLE_EXCEPTION, RUNTIME_EXCEPTION, MISSING_FROM_RESULT }

  /** A batch system that keeps its jobs (by tag) and whose submit answers can get lost. */
  static final class LosesAnswers implements Backend {
    final Map<String, AtomicInteger> created = new ConcurrentHashMap<>();
    final AtomicInteger submitCalls = new AtomicInteger();
    final AtomicInteger lookups = new AtomicInteger();
    volatile Loss loss = Loss.NONE;
    /** Lookups that fail before one answers. */
    final AtomicInteger lookupFailures = new AtomicInteger();
    /** Refuse "for now" without taking the job. */
    volatile boolean notNow;

    @Override
    public Set<org.jobyard.api.Capability> capabilities() {
      return Set.of(org.jobyard.api.Capability.BULK_SUBMIT);
    }

    @Override
    public List<SubmitOutcome> submit(List<SubmitRequest> jobs) throws BackendException {
      var loss = this.loss; // read before the call is counted: the test changes it after
      submitCalls.incrementAndGet();
      var out = new ArrayList<SubmitOutcome>();
      for (var r : jobs) {
        if (notNow) {
          out.add(new SubmitOutcome.Rejected(r.jobId(), new BackendException("busy", true)));
          continue;
        }
        created.computeIfAbsent(r.tag(), t -> new AtomicInteger()).incrementAndGet();
        out.add(switch (loss) {
          case IN_DOUBT -> new SubmitOutcome.InDoubt(r.jobId(), "Socket timed out on send/recv "
              + "operation");
          default -> new SubmitOutcome.Accepted(ref(r));
        });
      }
      switch (loss) {
        case RETRYABLE_EXCEPTION -> throw BackendException.unavailable("connection dropped after "
            + "the command was sent", null);
        case RUNTIME_EXCEPTION -> throw new IllegalStateException("a plugin bug after sbatch ran");
        case MISSING_FROM_RESULT -> {
          return List.of();
        }
        default -> {
          return out;
        }
      }
    }

    @Override
    public Map<String, JobStatus> poll(List<JobRef> jobs) {
      var out = new HashMap<String, JobStatus>();
      jobs.forEach(j -> out.put(j.jobId(), new JobStatus.Exited(0, "COMPLETED", null)));
      return out;
    }

    @Override
    public void cancel(List<JobRef> jobs) {}

    @Override
    public Map<String, JobRef> lookup(List<SubmitRequest> attempts) throws BackendException {
      lookups.incrementAndGet();
      if (lookupFailures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw BackendException.unavailable("slurmctld does not answer", null);
      }
      var out = new HashMap<String, JobRef>();
      attempts.stream().filter(a -> created.containsKey(a.tag()))
          .forEach(a -> out.put(a.jobId(), ref(a)));
      return out;
    }

    private static JobRef ref(SubmitRequest r) {
      return new JobRef(r.jobId(), r.tag(), Map.of());
    }
  }

  @BeforeEach
  void start() {
    ((Logger) LoggerFactory.getLogger(JobManager.class)).addAppender(log);
    log.start();
    EngineConfig config = ConfigLoader.defaults(home);
    var tuning = new EngineConfig.Tuning(Duration.ofMillis(50), 100, Duration.ofSeconds(30),
        Duration.ofMillis(100));
    db = new Database(config.database());
    store = new JobStore(db);
    writer = new StoreWriter(store);
    var cluster = new Cluster("doubtful", "doubtful", backend, new LocalTransport(), 0,
        Duration.ofMillis(50));
    manager = new JobManager(store, writer, tuning, List.of(cluster), List.of("doubtful"));
    writerThread = Thread.ofPlatform().start(writer);
    managerThread = Thread.ofPlatform().start(manager);
    await().until(manager::isReady);
  }

  @AfterEach
  void stop() throws Exception {
    ((Logger) LoggerFactory.getLogger(JobManager.class)).detachAppender(log);
    manager.stop().get(30, TimeUnit.SECONDS);
    managerThread.join(10_000);
    writer.stop();
    writerThread.join(10_000);
    db.close();
  }

  private String runOnce(Loss loss) throws Exception {
    backend.loss = loss;
    var id = manager.submit("alice", List.of(JobSpec.of("once", "true"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(10)).until(() -> backend.submitCalls.get() >= 1);
    backend.loss = Loss.NONE;
    await().atMost(Duration.ofSeconds(10)).until(() ->
        store.job(id).orElseThrow().state() == JobState.SUCCEEDED);
    return id;
  }

  private List<String> messages() {
    return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  @Test
  void anInDoubtOutcomeIsLookedUpAndAdoptedNotSubmittedAgain() throws Exception {
    var id = runOnce(Loss.IN_DOUBT);

    assertThat(backend.created).containsOnlyKeys(id + ".1");
    assertThat(backend.created.get(id + ".1")).as("native jobs for the attempt").hasValue(1);
    assertThat(backend.submitCalls).hasValue(1);
    assertThat(store.attempts(id)).singleElement()
        .satisfies(a -> assertThat(a.nativeId()).isEqualTo(id + ".1"));
    assertThat(messages()).anyMatch(m -> m.contains("job " + id + ": submission to cluster "
        + "doubtful is in doubt (Socket timed out on send/recv operation)"))
        .anyMatch(m -> m.contains("job " + id + ": in-doubt submission resolved")
            && m.contains("adopted, not submitted again"));
  }

  @ParameterizedTest
  @EnumSource(value = Loss.class, names = {"RETRYABLE_EXCEPTION", "RUNTIME_EXCEPTION",
      "MISSING_FROM_RESULT"})
  void aDroppedConnectionAnUnclassifiedExceptionOrAMissingResultIsLookedUpNotRepeated(Loss loss)
      throws Exception {
    var id = runOnce(loss);

    assertThat(backend.created).containsOnlyKeys(id + ".1");
    assertThat(backend.created.get(id + ".1")).as("native jobs for the attempt").hasValue(1);
    assertThat(backend.submitCalls).hasValue(1);
    assertThat(store.attempts(id)).as("still the first attempt, adopted").singleElement()
        .satisfies(a -> assertThat(a.nativeId()).isEqualTo(id + ".1"));
  }

  @Test
  void aLookupThatFailsIsRetriedWithBackOffAndLoggedAndNothingIsSubmittedMeanwhile()
      throws Exception {
    backend.lookupFailures.set(3);
    var id = runOnce(Loss.IN_DOUBT);

    assertThat(backend.lookups).as("three failed lookups, then the one that answered")
        .hasValue(4);
    assertThat(backend.submitCalls).hasValue(1);
    assertThat(backend.created.get(id + ".1")).hasValue(1);
    assertThat(messages()).filteredOn(m -> m.startsWith("lookup of 1 job(s) on cluster doubtful "
        + "failed")).hasSize(3).last().asString()
        // the cluster's back-off counts every failed call: the in-doubt submit, three lookups
        .contains("4 failed call(s) in a row")
        .contains("slurmctld does not answer");
  }

  @Test
  void aLookupThatFindsNothingLetsTheSameAttemptBeSubmittedAgainOnce() throws Exception {
    backend.notNow = true;
    var id = manager.submit("alice", List.of(JobSpec.of("later", "true"))).get(10,
        TimeUnit.SECONDS).getFirst();
    await().atMost(Duration.ofSeconds(10)).until(() -> backend.lookups.get() >= 1);
    backend.notNow = false;

    await().atMost(Duration.ofSeconds(10)).until(() ->
        store.job(id).orElseThrow().state() == JobState.SUCCEEDED);
    assertThat(backend.created.get(id + ".1")).hasValue(1);
    assertThat(store.attempts(id)).hasSize(1);
    assertThat(backend.lookups.get()).as("a lookup before every resubmission")
        .isGreaterThanOrEqualTo(backend.submitCalls.get() - 1);
  }
}
