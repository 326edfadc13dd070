package org.jobyard.engine.manager;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobState;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.drain.Admission;
import org.jobyard.engine.store.Change;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The job manager's state and its primitives, used only on the manager's thread: the live jobs,
 * this turn's changes, what waits for their commit, and the pieces that change jobs (per cluster
 * the {@link Submitter} and {@link Poller} in {@link Clusters}, {@link Retries}, {@link Cancels},
 * {@link Outbox}, {@link Reroute}, {@link Dependencies}), all through this {@link Actor}. The
 * {@link JobManager}'s loop hands what a turn gathered to the store.
 */
final class Turn implements Actor {
  private static final Logger LOG = LoggerFactory.getLogger(Turn.class);

  private final JobStore store;
  private final EngineConfig.Tuning tuning;
  private final List<String> defaultClusters;
  /** Posts to the manager's mailbox; callable from any thread. */
  private final Consumer<Message> mailbox;
  final RetryWait retryWait = new RetryWait();
  final Clusters clusters;
  final Outbox outbox;
  final Cancels cancels;
  final Retries retries;
  final Reroute reroute;
  final Dependencies dependencies;

  final Map<String, Job> jobs = new HashMap<>();
  final List<Change> changes = new ArrayList<>();
  final List<Runnable> afterCommit = new ArrayList<>();
  final List<JobEvent> events = new ArrayList<>();
  /** Backend calls handed out and not yet reported back. */
  int inFlight;
  boolean stopping;
  private long incarnation;
  private ScheduledExecutorService timer;
  private long seq;

  Turn(JobStore store, EngineConfig.Tuning tuning, Collection<Cluster> clusters,
      List<String> defaultClusters, Admission admission, Consumer<Message> mailbox) {
    this.store = store;
    this.tuning = tuning;
    this.defaultClusters = defaultClusters;
    this.mailbox = mailbox;
    this.clusters = new Clusters(this, admission, clusters, retryWait::waitingFor);
    this.outbox = new Outbox(this, store, this.clusters);
    this.cancels = new Cancels(this, this.clusters);
    this.retries = new Retries(this, this.clusters, retryWait);
    this.reroute = new Reroute(this, this.clusters, admission);
    this.dependencies = new Dependencies(this, store, this.clusters);
  }

  /**
   * A (re)start of the loop: everything in memory is forgotten and rebuilt from the store
   * ({@link Recovery}), after the outbox entries committed before a crash are carried out.
   */
  void start(long newIncarnation, ScheduledExecutorService newTimer) {
    incarnation = newIncarnation;
    timer = newTimer;
    jobs.clear();
    changes.clear();
    afterCommit.clear();
    events.clear();
    inFlight = 0;
    clusters.all().values().forEach(Cluster::reset);
    outbox.clear();
    seq = store.maxSeq();
    outbox.recover();
    take(store.liveJobsWithAttempts());
  }

  /**
   * i18: jobs this engine just took over (start() may have loaded them already); while the
   * store is away they are asked for again a second later, as they are this engine's now.
   */
  void adopt(Message.Adopt m) {
    try {
      outbox.adopt(m.cleanUps());
      take(store.liveJobsWithAttempts(m.jobIds().stream().filter(id -> !jobs.containsKey(id))
          .toList()));
    } catch (StoreUnavailableException e) {
      timer.schedule(() -> mailbox.accept(m), 1, TimeUnit.SECONDS);
    }
  }

  /**
   * i18: when engines share the store, the queued jobs beyond what this engine holds for the
   * cluster go back to the shared queue for an engine with room ({@link Overflow}).
   */
  @Override
  public void overflow(Cluster c) {
    if (store.engineId() != null) {
      for (var job : Overflow.take(c)) {
        jobs.remove(job.id);
        changes.add(new Change.ReleaseJob(job.id, c.name));
      }
    }
  }

  /** Takes live jobs from the store on: at a start, or taken over from another engine (i18). */
  private void take(List<JobStore.LiveJob> live) {
    var recovered = Recovery.rebuild(live, clusters.all(), defaultClusters, Instant.now());
    jobs.putAll(recovered.jobs());
    changes.addAll(recovered.changes());
    recovered.gated().forEach(dependencies::queueUnlessWaiting); // i20
    recovered.delayed().forEach(retryWait::hold);
  }

  /**
   * Changes the job's state as the {@link Transitions} table says for {@code event}, and does the
   * table's effects. A move the table forbids is a bug here: it fails tests (assertions) and is
   * logged and ignored in production, where the job keeps its state.
   */
  @Override
  public void move(Job job, Transitions.Event event, String reason) {
    var from = job.state;
    var outcome = Transitions.next(from, event).orElse(null);
    assert outcome != null : "job " + job.id + ": " + event + " is forbidden in state " + from;
    if (outcome == null) {
      LOG.error("job {}: ignored {} in state {} (a bug in the job manager)", job.id, event, from);
      return;
    }
    if (outcome.effects().contains(Transitions.Effect.LEAVE_CLUSTER) && job.cluster != null) {
      var c = clusters.get(job.cluster);
      if (c != null) {
        c.live.remove(job.id);
      }
    }
    var to = outcome.state();
    if (from == to && reason == null) {
      changes.add(new Change.UpdateJob(job.row(Instant.now())));
      return;
    }
    job.state = to;
    if (reason != null) {
      job.reason = reason;
    }
    changes.add(new Change.UpdateJob(job.row(Instant.now())));
    if (from != to) {
      events.add(event(job, from));
    }
  }

  /** The job's end: {@code event} must be one whose outcome {@link Transitions.Effect#END}s it. */
  @Override
  public void finish(Job job, Transitions.Event event, Integer exitCode, String reason) {
    job.exitCode = exitCode;
    move(job, event, reason);
    if (!job.state.isTerminal()) {
      return; // forbidden, and logged: the job stays as it was
    }
    jobs.remove(job.id);
    var to = job.state;
    dependencies.releaseDependents(job); // i20
    MDC.put("job", job.id);
    LOG.info("job {} ('{}') {}{}", job.id, job.name, to.name().toLowerCase(),
        reason == null ? "" : ": " + reason);
    MDC.remove("job");
  }

  private JobEvent event(Job job, JobState from) {
    return new JobEvent(job.id, job.name, job.owner, job.session, job.cluster, from,
        job.state, job.exitCode, job.reason);
  }

  @Override
  public void endAttempt(Cluster c, Job job, JobState state, String reason, Instant now) {
    job.attemptState = state;
    var saved = job.reason;
    job.reason = reason;
    changes.add(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
    job.reason = saved;
  }

  @Override
  public Job job(String id) {
    return jobs.get(id);
  }

  @Override
  public EngineConfig.Tuning tuning() {
    return tuning;
  }

  @Override
  public long incarnation() {
    return incarnation;
  }

  @Override
  public boolean stopping() {
    return stopping;
  }

  @Override
  public void change(Change change) {
    changes.add(change);
  }

  @Override
  public void afterCommit(Runnable action) {
    afterCommit.add(action);
  }

  @Override
  public void report(Message message) {
    mailbox.accept(message);
  }

  @Override
  public void callStarted() {
    inFlight++;
  }

  @Override
  public void callEnded() {
    inFlight--;
  }

  @Override
  public void wakeAfter(long millis) {
    if (timer != null) {
      timer.schedule(() -> mailbox.accept(new Message.Tick()), millis, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void retryOrFinish(Job job, Integer exitCode, boolean lost, String reason) {
    retries.retryOrFinish(job, exitCode, lost, reason);
  }

  @Override
  public void nextClusterOrFail(Job job, String reason) {
    retries.nextClusterOrFail(job, reason);
  }

  @Override
  public void abandon(Cluster c, Job job) {
    outbox.abandon(c, job);
  }

  @Override
  public void clean(Cluster c, Job job) {
    outbox.record(job.id, Outbox.CLEAN, c.name, job.ref.nativeId(), job.attributesJson());
  }

  @Override
  public void dispatchCancel(Cluster c, List<JobRef> refs) {
    cancels.dispatch(c, refs);
  }

  @Override
  public void admit(Job job) {
    jobs.put(job.id, job);
  }

  @Override
  public long nextSeq() {
    seq = store.nextSeq(seq); // i18: from a block of its own when engines share the store
    return seq;
  }

  @Override
  public void queue(Job job) {
    dependencies.queueUnlessWaiting(job);
  }

  @Override
  public void announce(Job job) {
    events.add(event(job, null));
  }

  @Override
  public void cleanLater(String jobId, String cluster, String nativeId, String attributesJson) {
    outbox.record(jobId, Outbox.CLEAN, cluster, nativeId, attributesJson);
  }
}
