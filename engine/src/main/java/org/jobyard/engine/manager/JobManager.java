package org.jobyard.engine.manager;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.dependency.DependencyGate;
import org.jobyard.engine.dependency.JobGraph;
import org.jobyard.engine.retry.RetryRules;
import org.jobyard.engine.spec.Placements;
import org.jobyard.engine.store.AttemptRow;
import org.jobyard.engine.store.Change;
import org.jobyard.engine.store.JobRow;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreWriter;
import org.jobyard.engine.store.StoredJson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The one owner of job state (an actor). It takes {@link Message}s one at a time from its mailbox,
 * changes jobs in memory, and hands every change of a turn to the {@link StoreWriter} as one
 * batch; what must wait for durability (replies, backend calls that act on committed intent)
 * runs when the batch is committed. Backend calls run on each cluster's worker thread and report
 * back as messages, so this thread never waits on a batch system or the database.
 *
 * <p>Intent comes first: a job is SUBMITTING in the store before its backend sees it, and the
 * native job carries the attempt's tag; after a crash, SUBMITTING jobs are looked up by tag
 * before anything is submitted again.
 */
public final class JobManager implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(JobManager.class);
  private static final long TICK_MILLIS = 200;
  private static final long POLL_SOON_DELAY_MILLIS = 10;
  private static final long CANCEL_RESEND_MILLIS = 30_000;
  /** Outbox actions on a native job. */
  private static final String CLEAN = "clean";
  private static final String CANCEL = "cancel";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final char[] ID_CHARS = "abcdefghijkmnpqrstuvwxyz23456789".toCharArray();

  private final JobStore store;
  private final StoreWriter writer;
  private final EngineConfig.Tuning tuning;
  private final Map<String, Cluster> clusters;
  private final List<String> defaultClusters;
  private final LinkedBlockingQueue<Message> mailbox = new LinkedBlockingQueue<>();
  private final List<JobListener> listeners = new CopyOnWriteArrayList<>();
  private final AtomicLong incarnations = new AtomicLong();
  private volatile boolean accepting = true;
  private volatile boolean ready;
  private final CompletableFuture<Void> firstReady = new CompletableFuture<>();
  private volatile Stats stats = new Stats(0, Map.of(), 0, Map.of());

  // owned by the manager's thread
  private long incarnation;
  private java.util.concurrent.ScheduledExecutorService timer;
  private final Map<String, Job> jobs = new HashMap<>();
  /** i20: who waits for whom (jobs' {@code after}); see the dependencies section below. */
  private final DependencyGate dependencies = new DependencyGate();
  private final java.util.ArrayDeque<Job> releasing = new java.util.ArrayDeque<>();
  private final RetryWait retryWait = new RetryWait();
  private final List<Change> changes = new ArrayList<>();
  private final List<Runnable> afterCommit = new ArrayList<>();
  private final List<JobEvent> events = new ArrayList<>();
  /** Outbox entries not yet carried out (their cluster did not answer), by id. */
  private final Map<Long, JobStore.OutboxEntry> pendingOutbox = new HashMap<>();
  private long seq;
  private long outboxSeq;
  private int inFlight;
  private CompletableFuture<Void> stopReply;
  private long stopDeadline;

  /** Numbers for health and progress, refreshed each turn. */
  /**
   * @param waitingByCluster jobs the engine holds for a cluster, not yet handed to it (its queue)
   */
  public record Stats(int liveJobs, Map<String, Integer> liveByCluster, long turns,
      Map<String, Integer> waitingByCluster) {}

  /** How long a cancel may go unanswered before it is sent again; tests shorten it. */
  private volatile long cancelResendMillis = CANCEL_RESEND_MILLIS;

  public JobManager(JobStore store, StoreWriter writer, EngineConfig.Tuning tuning,
      Collection<Cluster> clusters, List<String> defaultClusters) {
    this.store = store;
    this.writer = writer;
    this.tuning = tuning;
    var byName = new LinkedHashMap<String, Cluster>();
    clusters.forEach(c -> byName.put(c.name, c));
    this.clusters = java.util.Collections.unmodifiableMap(byName);
    this.defaultClusters = List.copyOf(defaultClusters);
  }

  // ---------------------------------------------------------------- API for other threads

  /** Stores the jobs and returns their ids once the store has them (acknowledged = durable). */
  public CompletableFuture<List<String>> submit(String owner, List<JobSpec> specs) {
    var reply = new CompletableFuture<List<String>>();
    post(new Message.Submit(owner, specs, reply));
    return reply;
  }

  /** Cancels the jobs; returns the ids that were live and are now being cancelled. */
  public CompletableFuture<List<String>> cancel(List<String> jobIds) {
    var reply = new CompletableFuture<List<String>>();
    post(new Message.Cancel(jobIds, reply));
    return reply;
  }

  /** Runs a dead job again; fails with {@link RejectedException} if it is still live. */
  public CompletableFuture<String> restart(JobRow row) {
    var reply = new CompletableFuture<String>();
    post(new Message.Restart(row, reply));
    return reply;
  }

  /**
   * Removes dead jobs (live ones are refused with {@link RejectedException}, and then nothing is
   * removed); each attempt's cluster cleans up after the removal is committed.
   */
  public CompletableFuture<List<String>> flush(List<JobRow> rows,
      Map<String, List<AttemptRow>> attempts) {
    var reply = new CompletableFuture<List<String>>();
    post(new Message.Flush(rows, attempts, reply));
    return reply;
  }

  /** Pauses live jobs: queued ones wait, pending ones are held, running ones stopped. */
  public CompletableFuture<List<String>> pause(List<String> jobIds) {
    var reply = new CompletableFuture<List<String>>();
    post(new Message.Pause(jobIds, reply));
    return reply;
  }

  /** Resumes paused jobs: held ones are released, stopped ones queued as a new attempt. */
  public CompletableFuture<List<String>> resume(List<String> jobIds) {
    var reply = new CompletableFuture<List<String>>();
    post(new Message.Resume(jobIds, reply));
    return reply;
  }

  /** Stops after the work in flight has reported back (bounded), every change committed. */
  public CompletableFuture<Void> stop() {
    var reply = new CompletableFuture<Void>();
    if (!accepting) {
      reply.complete(null);
      return reply;
    }
    mailbox.add(new Message.Stop(reply));
    return reply;
  }

  /** i18: recovers live jobs this engine just took over, as at a start (lease.LeaseService). */
  public void adopt(List<String> jobIds) {
    mailbox.add(new Message.Adopt(List.copyOf(jobIds)));
  }

  /** Called by a backend's events: poll that cluster soon. */
  public void pollSoon(String cluster) {
    mailbox.add(new Message.PollSoon(cluster));
  }

  public void addListener(JobListener listener) {
    listeners.add(listener);
  }

  public void removeListener(JobListener listener) {
    listeners.remove(listener);
  }

  public boolean isReady() {
    return ready;
  }

  /** Completes once the manager has recovered the store's live jobs for the first time. */
  public CompletableFuture<Void> whenReady() {
    return firstReady;
  }

  public Stats stats() {
    return stats;
  }

  public Map<String, Cluster> clusters() {
    return clusters;
  }

  private void post(Message.Command command) {
    if (!accepting) {
      command.reply().completeExceptionally(
          new ManagerStoppedException("the engine is stopping; nothing was changed"));
      return;
    }
    mailbox.add(command);
  }

  // ---------------------------------------------------------------- the actor

  /** Sends an unanswered cancel again after {@code after} instead of 30 s; before {@link #run}. */
  void resendCancelsAfter(java.time.Duration after) {
    cancelResendMillis = after.toMillis();
  }

  @Override
  public void run() {
    incarnation = incarnations.incrementAndGet();
    // a restart after a failure takes commands again (only an orderly stop ends for good)
    accepting = stopReply == null;
    resetState();
    recover();
    ready = true;
    firstReady.complete(null);
    timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name("manager-timer").factory());
    // the heartbeat is a message like any other
    timer.scheduleAtFixedRate(() -> mailbox.add(new Message.Tick()), TICK_MILLIS, TICK_MILLIS,
        java.util.concurrent.TimeUnit.MILLISECONDS);
    var batch = new ArrayList<Message>();
    try {
      while (true) {
        batch.add(mailbox.take());
        mailbox.drainTo(batch, 10_000);
        for (var message : batch) {
          handleSafely(message);
        }
        batch.clear();
        schedule();
        flush();
        publishStats();
        if (stopReply != null && (inFlight == 0 || System.currentTimeMillis() > stopDeadline)) {
          finishStop();
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      timer.shutdownNow();
      ready = false;
      failPending();
    }
  }

  private void resetState() {
    jobs.clear();
    changes.clear();
    afterCommit.clear();
    events.clear();
    inFlight = 0;
    for (var c : clusters.values()) {
      c.queue.clear();
      c.live.clear();
      c.toSubmit.clear();
      c.needLookup.clear();
      c.cancelling.clear();
      c.pollInFlight = false;
      c.submitInFlight = false;
      c.pollWanted = false;
      c.pollDueScheduled = false;
      c.failures = 0;
      c.outbox.clear();
      c.lostChecks.clear();
    }
    pendingOutbox.clear();
  }

  private void handleSafely(Message message) throws InterruptedException {
    try {
      handle(message);
    } catch (RejectedException e) {
      // the user's mistake (restart of a live job...), answered with the reason
      LOG.info("refused: {}", e.getMessage());
      if (message instanceof Message.Command c) {
        c.reply().completeExceptionally(e);
      }
    } catch (RuntimeException e) {
      if (message instanceof Message.StoreFailed) {
        throw e;
      }
      LOG.error("job manager could not handle {}: {}", message.getClass().getSimpleName(),
          e.toString(), e);
      if (message instanceof Message.Command c) {
        c.reply().completeExceptionally(e);
      }
    }
  }

  private void handle(Message message) {
    switch (message) {
      case Message.Submit m -> onSubmit(m);
      case Message.Cancel m -> onCancel(m);
      case Message.Stop m -> onStop(m);
      case Message.Restart m -> onRestart(m);
      case Message.Flush m -> onFlush(m);
      case Message.Pause m -> onPause(m);
      case Message.Resume m -> onResume(m);
      case Message.Cleaned m -> {
        if (m.incarnation() == incarnation) {
          onCleaned(m);
        }
      }
      case Message.Tick t -> onTick();
      case Message.Adopt m -> onAdopt(m); // i18
      case Message.PollSoon m -> {
        var c = clusters.get(m.cluster());
        if (c != null && !c.pollDueScheduled && timer != null) {
          // a few milliseconds' wait lets the jobs that end together share one poll
          c.pollDueScheduled = true;
          timer.schedule(() -> mailbox.add(new Message.PollDue(c.name)), POLL_SOON_DELAY_MILLIS,
              java.util.concurrent.TimeUnit.MILLISECONDS);
        }
      }
      case Message.PollDue m -> {
        var c = clusters.get(m.cluster());
        if (c != null) {
          c.pollDueScheduled = false;
          c.pollWanted = true;
        }
      }
      case Message.Committed m -> m.actions().forEach(Runnable::run);
      case Message.StoreFailed m -> throw new IllegalStateException(
          "the job store failed; restarting the job manager from the store", m.error());
      case Message.Submitted m -> {
        if (m.incarnation() == incarnation) {
          onSubmitted(m);
        }
      }
      case Message.Polled m -> {
        if (m.incarnation() == incarnation) {
          onPolled(m);
        }
      }
      case Message.LookedUp m -> {
        if (m.incarnation() == incarnation) {
          onLookedUp(m);
        }
      }
      case Message.Collected m -> {
        if (m.incarnation() == incarnation) {
          onCollected(m);
        }
      }
      case Message.CancelSent m -> {
        if (m.incarnation() == incarnation) {
          onCancelSent(m);
        }
      }
    }
  }

  // ---------------------------------------------------------------- commands

  private void onSubmit(Message.Submit m) {
    // Check everything first, so a bad request leaves nothing behind.
    for (int i = 0; i < m.specs().size(); i++) {
      var spec = m.specs().get(i);
      for (var name : spec.clusters()) {
        if (!clusters.containsKey(name)) {
          throw new RejectedException("job " + (i + 1) + " ('" + spec.name() + "'): field "
              + "'clusters': no cluster named '" + name + "'; configured: " + clusters.keySet());
        }
      }
      refuseUnsupportedPlacement(i, spec);
    }
    var now = Instant.now();
    var ids = new ArrayList<String>(m.specs().size());
    var newIds = m.specs().stream().map(x -> newId()).toList();
    var after = resolveDependencies(m.specs(), newIds); // i20: names to ids; unknown refused
    var waiting = new ArrayList<Job>();
    for (var original : m.specs()) {
      var spec = original.withUser(m.owner()).withAfter(after.get(ids.size()));
      seq = store.nextSeq(seq); // i18: from a block of its own when engines share the store
      var job = new Job(newIds.get(ids.size()), seq, m.owner(), spec.name(), spec.session(),
          spec, StoredJson.spec(spec), defaultClusters, now);
      job.desired = JobRow.Desired.RUN;
      job.state = JobState.QUEUED;
      job.retriesLeft = spec.retries();
      jobs.put(job.id, job);
      changes.add(new Change.InsertJob(job.row(now)));
      if (spec.after().isEmpty()) {
        clusters.get(job.currentCluster()).queue.add(job);
      } else {
        waiting.add(job); // gated once every job of the submission is known
      }
      events.add(event(job, null));
      ids.add(job.id);
    }
    waiting.forEach(this::queueUnlessWaiting);
    LOG.info("accepted {} job(s) from {}", ids.size(), m.owner());
    afterCommit.add(() -> m.reply().complete(List.copyOf(ids)));
  }

  /** A field the backend of one of the job's clusters cannot honour refuses the whole request. */
  private void refuseUnsupportedPlacement(int i, JobSpec spec) {
    var names = spec.clusters().isEmpty() ? defaultClusters : spec.clusters();
    for (var name : names) {
      var c = clusters.get(name);
      var fields = c == null ? List.<String>of() : Placements.unsupported(spec, c.capabilities);
      if (!fields.isEmpty()) {
        throw new RejectedException("job " + (i + 1) + " ('" + spec.name() + "'): field"
            + (fields.size() > 1 ? "s " : " ") + String.join(", ", fields) + " not supported "
            + "by cluster '" + name + "' (backend " + c.backendName + "); remove "
            + (fields.size() > 1 ? "them" : "it") + " or choose clusters whose backend maps "
            + (fields.size() > 1 ? "them" : "it") + " (see the job-format table in the README)");
      }
    }
  }

  private void onCancel(Message.Cancel m) {
    var cancelled = new ArrayList<String>();
    var toSend = new HashMap<Cluster, List<JobRef>>();
    for (var id : m.jobIds()) {
      var job = jobs.get(id);
      if (job == null || job.state.isTerminal()) {
        continue;
      }
      cancelled.add(id);
      job.desired = JobRow.Desired.CANCEL;
      switch (job.state) {
        case QUEUED -> {
          clusters.get(job.currentCluster()).queue.remove(job);
          finish(job, Transitions.Event.CANCELLED, null, "cancelled before it was submitted");
        }
        case SUBMITTING -> {
          var c = clusters.get(job.cluster);
          if (c.toSubmit.remove(job)) {
            // committed intent, but the backend never saw it: nothing to undo there
            endAttempt(c, job, JobState.CANCELLED, "cancelled before submission", Instant.now());
            finish(job, Transitions.Event.CANCELLED, null, "cancelled before it was submitted");
          } else {
            move(job, Transitions.Event.CANCEL_REQUESTED, "cancel requested during submission");
          }
        }
        case PENDING, RUNNING, PAUSED, CANCELLING -> {
          move(job, Transitions.Event.CANCEL_REQUESTED, "cancel requested");
          if (job.ref != null) {
            toSend.computeIfAbsent(clusters.get(job.cluster), k -> new ArrayList<>()).add(job.ref);
          }
        }
        default -> { }
      }
    }
    toSend.forEach((cluster, refs) -> afterCommit.add(() -> dispatchCancel(cluster, refs)));
    afterCommit.add(() -> m.reply().complete(List.copyOf(cancelled)));
  }

  private void onRestart(Message.Restart m) {
    var row = m.row();
    if (jobs.containsKey(row.id()) || !row.state().isTerminal()) {
      throw new RejectedException("job " + row.id() + " is still " + row.state().name()
          .toLowerCase(java.util.Locale.ROOT) + "; only a finished job can be restarted (kill it "
          + "first)");
    }
    JobSpec spec = StoredJson.spec(row.id(), row.spec());
    var job = new Job(row.id(), row.seq(), row.owner(), row.name(), row.session(), spec,
        row.spec(), defaultClusters, row.createdAt());
    if (!clusters.containsKey(job.clusters().getFirst())) {
      throw new RejectedException("job " + row.id() + " names cluster '"
          + job.clusters().getFirst() + "', which is not configured; configured: "
          + clusters.keySet());
    }
    job.desired = JobRow.Desired.RUN;
    job.state = row.state();
    job.attempt = row.attempt();
    job.clusterIndex = 0;
    job.retriesLeft = spec.retries();
    jobs.put(job.id, job);
    move(job, Transitions.Event.RESTARTED, "restarted");
    job.exitCode = null;
    clusters.get(job.currentCluster()).queue.add(job);
    afterCommit.add(() -> m.reply().complete(job.id));
  }

  private void onFlush(Message.Flush m) {
    var live = m.rows().stream().filter(r -> jobs.containsKey(r.id()) || !r.state().isTerminal())
        .map(JobRow::id).toList();
    if (!live.isEmpty()) {
      throw new RejectedException("flush removes finished jobs only; still live: " + live
          + " (kill them first); nothing was removed");
    }
    var ids = new ArrayList<String>();
    for (var row : m.rows()) {
      changes.add(new Change.DeleteJob(row.id()));
      ids.add(row.id());
      for (var a : m.attempts().getOrDefault(row.id(), List.of())) {
        if (a.nativeId() == null || !clusters.containsKey(a.cluster())) {
          continue;
        }
        // written with the removal, carried out after it: a crash in between re-runs it at start
        outbox(row.id(), CLEAN, a.cluster(), a.nativeId(),
            a.attributes() == null ? "{}" : a.attributes());
      }
    }
    LOG.info("flushed {} job(s)", ids.size());
    afterCommit.add(() -> m.reply().complete(List.copyOf(ids)));
  }

  /**
   * Records a side effect on a native job in the outbox, in this turn's batch, and carries it out
   * once the batch is committed; until it succeeds it is tried again whenever the cluster answers
   * (and at every start): a cancel of an abandoned attempt, a cleanup.
   */
  private void outbox(String jobId, String action, String cluster, String nativeId,
      String attributesJson) {
    outboxSeq = store.nextOutboxId(outboxSeq); // i18
    var entry = new JobStore.OutboxEntry(outboxSeq, jobId, action, StoredJson.write(Map.of(
        "cluster", cluster, "nativeId", nativeId, "attributes", attributesJson)));
    changes.add(new Change.InsertOutbox(entry.id(), entry.jobId(), entry.action(),
        entry.payload()));
    afterCommit.add(() -> runOutbox(entry));
  }

  /**
   * The attempt is given up while its native job may still exist (lost, held too long): a cancel
   * of it goes to the outbox before the job may be submitted again, so the old attempt can never
   * run next to the new one once the cluster answers.
   */
  private void abandon(Cluster c, Job job) {
    if (job.ref != null) {
      outbox(job.id, CANCEL, c.name, job.ref.nativeId(), job.attributesJson());
    }
  }

  private void runOutbox(JobStore.OutboxEntry entry) {
    var payload = StoredJson.attributes(entry.payload());
    if (payload.isEmpty()) {
      LOG.warn("outbox entry {} unreadable, dropped: {}", entry.id(), entry.payload());
      changes.add(new Change.DeleteOutbox(entry.id()));
      return;
    }
    var c = clusters.get(payload.get("cluster"));
    if (c == null) {
      LOG.warn("cleanup of job {} skipped: cluster '{}' is no longer configured", entry.jobId(),
          payload.get("cluster"));
      changes.add(new Change.DeleteOutbox(entry.id()));
      return;
    }
    var ref = new JobRef(entry.jobId(), payload.get("nativeId"),
        StoredJson.attributes(payload.get("attributes")));
    pendingOutbox.put(entry.id(), entry);
    c.outbox.remove(entry.id());
    inFlight++;
    var inc = incarnation;
    var cancel = CANCEL.equals(entry.action());
    c.dispatch(cancel ? Cluster.Call.CANCEL : Cluster.Call.CLEAN, backend -> {
      if (cancel) {
        backend.cancel(List.of(ref));
      } else {
        backend.clean(ref);
      }
      return null;
    }, (none, error) -> mailbox.add(new Message.Cleaned(inc, entry.id(), error)));
  }

  private void onCleaned(Message.Cleaned m) {
    inFlight--;
    var entry = pendingOutbox.get(m.outboxId());
    var c = entry == null ? null
        : clusters.get(StoredJson.attributes(entry.payload()).get("cluster"));
    if (m.error() != null) {
      LOG.warn("{} of job {} (outbox {}) failed, will retry when the cluster answers: {}",
          entry == null ? "outbox entry" : entry.action(), entry == null ? "?" : entry.jobId(),
          m.outboxId(), m.error().getMessage());
      if (c != null) {
        c.lastError = m.error().getMessage();
        c.failed(tuning.retryBackoff(), System.currentTimeMillis());
        c.outbox.add(m.outboxId());
      }
      return;
    }
    pendingOutbox.remove(m.outboxId());
    if (c != null) {
      c.answered();
    }
    changes.add(new Change.DeleteOutbox(m.outboxId()));
  }

  private void onPause(Message.Pause m) {
    var paused = new ArrayList<String>();
    var toHold = new HashMap<Cluster, List<JobRef>>();
    var toStop = new HashMap<Cluster, List<JobRef>>();
    for (var id : m.jobIds()) {
      var job = jobs.get(id);
      if (job == null || job.state.isTerminal() || job.desired == JobRow.Desired.CANCEL
          || job.state == JobState.PAUSED) {
        continue;
      }
      switch (job.state) {
        case QUEUED -> {
          clusters.get(job.currentCluster()).queue.remove(job);
          job.desired = JobRow.Desired.PAUSE;
          move(job, Transitions.Event.PAUSED_BY_USER, "paused before submission");
          paused.add(id);
        }
        case PENDING, RUNNING -> {
          if (job.ref == null) {
            continue;
          }
          var c = clusters.get(job.cluster);
          job.desired = JobRow.Desired.PAUSE;
          changes.add(new Change.UpdateJob(job.row(Instant.now())));
          if (job.state == JobState.PENDING
              && c.capabilities.contains(org.jobyard.api.Capability.HOLD_RELEASE)) {
            toHold.computeIfAbsent(c, k -> new ArrayList<>()).add(job.ref);
          } else {
            // a paused job holds no resources: stop it, and resume from the first step
            toStop.computeIfAbsent(c, k -> new ArrayList<>()).add(job.ref);
          }
          paused.add(id);
        }
        default -> { }
      }
    }
    toHold.forEach((c, refs) -> afterCommit.add(() -> dispatchHold(c, refs, true)));
    toStop.forEach((c, refs) -> afterCommit.add(() -> dispatchCancel(c, refs)));
    afterCommit.add(() -> m.reply().complete(List.copyOf(paused)));
  }

  private void onResume(Message.Resume m) {
    var resumed = new ArrayList<String>();
    var toRelease = new HashMap<Cluster, List<JobRef>>();
    for (var id : m.jobIds()) {
      var job = jobs.get(id);
      if (job == null || job.desired != JobRow.Desired.PAUSE && job.state != JobState.PAUSED) {
        continue;
      }
      job.desired = JobRow.Desired.RUN;
      resumed.add(id);
      if (job.ref != null && job.cluster != null && clusters.get(job.cluster).live.contains(id)) {
        changes.add(new Change.UpdateJob(job.row(Instant.now())));
        if (job.state == JobState.PAUSED) {
          toRelease.computeIfAbsent(clusters.get(job.cluster), k -> new ArrayList<>())
              .add(job.ref);
        }
      } else {
        job.adopt(null);
        move(job, Transitions.Event.RESUMED, "resumed");
        queueUnlessWaiting(job); // i20
      }
    }
    toRelease.forEach((c, refs) -> afterCommit.add(() -> dispatchHold(c, refs, false)));
    afterCommit.add(() -> m.reply().complete(List.copyOf(resumed)));
  }

  private void dispatchHold(Cluster c, List<JobRef> refs, boolean hold) {
    inFlight++;
    var inc = incarnation;
    var ids = refs.stream().map(JobRef::jobId).toList();
    c.dispatch(hold ? Cluster.Call.HOLD : Cluster.Call.RELEASE, backend -> {
      if (hold) {
        backend.hold(refs);
      } else {
        backend.release(refs);
      }
      return null;
    }, (none, error) -> mailbox.add(new Message.CancelSent(inc, c.name, ids, error)));
  }

  private void onStop(Message.Stop m) {
    accepting = false;
    stopReply = m.reply();
    stopDeadline = System.currentTimeMillis() + 15_000;
    LOG.info("job manager stopping: {} backend call(s) in flight", inFlight);
  }

  private void finishStop() {
    // Wait for the last batch to be durable before saying we are done.
    var last = new CompletableFuture<Void>();
    writer.submit(new StoreWriter.Batch(List.of(), () -> last.complete(null),
        last::completeExceptionally));
    try {
      last.get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("last write before stop did not complete: {}", e.toString());
    }
    LOG.info("job manager stopped");
    stopReply.complete(null);
  }

  private void failPending() {
    accepting = false;
    var left = new ArrayList<Message>();
    mailbox.drainTo(left);
    for (var message : left) {
      if (message instanceof Message.Command c) {
        c.reply().completeExceptionally(
            new ManagerStoppedException("the engine stopped before handling the request"));
      }
    }
  }

  // ---------------------------------------------------------------- scheduling

  private void onTick() {
    var now = System.currentTimeMillis();
    for (var job : retryWait.due(now)) {
      var c = clusters.get(job.currentCluster());
      if (c != null) {
        c.queue.add(job);
      }
    }
    for (var c : clusters.values()) {
      c.paceWakeScheduled = false;
      if (!c.live.isEmpty() && now >= c.nextPollAt) {
        c.pollWanted = true;
      }
      if (now >= c.unavailableUntil) {
        dispatchSubmits(c);
        // jobs whose submission did not answer: find out what happened before anything else
        if (!c.needLookup.isEmpty() && stopReply == null) {
          var lookups = c.needLookup.stream().map(jobs::get)
              .filter(j -> j != null && j.lookupNeeded && j.ref == null).toList();
          c.needLookup.clear();
          lookups.forEach(j -> j.lookupNeeded = false);
          if (!lookups.isEmpty()) {
            dispatchLookup(c, lookups);
          }
        }
        if (!c.lostChecks.isEmpty() && stopReply == null) {
          var checks = c.lostChecks.stream().map(jobs::get)
              .filter(j -> j != null && j.ref != null && c.name.equals(j.cluster)).toList();
          c.lostChecks.clear();
          if (!checks.isEmpty()) {
            dispatchLookup(c, checks);
          }
        }
        // outbox entries that failed: again, now that the back-off is over
        if (!c.outbox.isEmpty() && stopReply == null) {
          var due = c.outbox.stream().map(pendingOutbox::get).filter(e -> e != null).toList();
          c.outbox.clear();
          due.forEach(this::runOutbox);
        }
      }
      // a cancel that did not take resends after a while (only the jobs being cancelled are
      // looked at: a tick must stay cheap with 100,000 live jobs)
      for (var it = c.cancelling.iterator(); it.hasNext(); ) {
        var j = jobs.get(it.next());
        if (j == null || j.state != JobState.CANCELLING) {
          it.remove();
        } else if (j.ref != null && j.cancelSentAt > 0
            && now - j.cancelSentAt > cancelResendMillis) {
          j.cancelSentAt = now;
          dispatchCancel(c, List.of(j.ref));
        }
      }
    }
  }

  private void needLookup(Cluster c, Job job) {
    c.lookUp(job);
  }

  /** Moves queued jobs to SUBMITTING where clusters have room, and starts due polls. */
  private void schedule() {
    if (stopReply != null) {
      return;
    }
    var now = Instant.now();
    var nowMillis = now.toEpochMilli();
    for (var c : clusters.values()) {
      // max_pending counts the jobs waiting in the batch system's queue (a walk over the live
      // jobs, so only when the cluster sets it); submit_rate keeps a backlog of a burst at most
      int pending = c.policy.maxPending() > 0 ? waitingInQueue(c) : 0;
      int staged = c.toSubmit.size();
      while (!c.queue.isEmpty() && c.hasRoom(pending) && nowMillis >= c.unavailableUntil
          && (!c.pace.limited() || staged <= c.policy.submitRate() * SubmitPace.BURST_SECONDS)) {
        var job = c.queue.poll();
        if (job.state != JobState.QUEUED || job.desired != JobRow.Desired.RUN) {
          continue;
        }
        pending++;
        staged++;
        job.lostChecked = false;
        job.heldSince = 0;
        job.attempt++;
        job.cluster = c.name;
        job.adopt(null);
        job.nativeState = null;
        job.exitCode = null;
        job.attemptState = JobState.SUBMITTING;
        job.attemptCreatedAt = now;
        job.attemptStartedAt = null; // i20: stamped by Job.attemptRow
        job.attemptEndedAt = null;
        job.unknownSince = 0;
        c.live.add(job.id);
        changes.add(new Change.InsertAttempt(job.attemptRow(c.backendName, now)));
        move(job, Transitions.Event.SUBMIT_INTENT, null);
        afterCommit.add(() -> {
          c.toSubmit.add(job);
          dispatchSubmits(c);
        });
      }
      if (c.pollWanted && !c.pollInFlight && !c.live.isEmpty()) {
        dispatchPoll(c);
      }
    }
  }

  private int waitingInQueue(Cluster c) {
    int n = 0;
    for (var id : c.live) {
      var j = jobs.get(id);
      if (j != null && (j.state == JobState.SUBMITTING || j.state == JobState.PENDING)) {
        n++;
      }
    }
    return n;
  }

  private void dispatchSubmits(Cluster c) {
    if (c.submitInFlight || c.toSubmit.isEmpty() || stopReply != null
        || System.currentTimeMillis() < c.unavailableUntil) {
      return; // a cluster in back-off is tried again by the tick
    }
    var batchSize = c.capabilities.contains(org.jobyard.api.Capability.BULK_SUBMIT)
        ? tuning.submitBatch() : 1;
    // submit_rate: as many as the pace allows now; the tick comes back for the rest
    batchSize = c.pace.take(Math.min(batchSize, c.toSubmit.size()), System.nanoTime());
    if (batchSize == 0) {
      if (!c.paceWakeScheduled && timer != null) {
        // come back when the next job may go, not only at the next heartbeat
        c.paceWakeScheduled = true;
        timer.schedule(() -> mailbox.add(new Message.Tick()),
            Math.max(1, c.pace.millisUntilNext(System.nanoTime())),
            java.util.concurrent.TimeUnit.MILLISECONDS);
      }
      return;
    }
    var batch = new ArrayList<Job>();
    while (batch.size() < batchSize && !c.toSubmit.isEmpty()) {
      var job = c.toSubmit.poll();
      if (job.state == JobState.SUBMITTING || job.state == JobState.CANCELLING && job.ref == null) {
        batch.add(job);
      }
    }
    if (batch.isEmpty()) {
      return;
    }
    var requests = batch.stream().map(Job::request).toList();
    var ids = batch.stream().map(j -> j.id).toList();
    c.submitInFlight = true;
    inFlight++;
    var inc = incarnation;
    c.dispatch(Cluster.Call.SUBMIT, backend -> backend.submit(requests), (outcomes, error) ->
        mailbox.add(new Message.Submitted(inc, c.name, ids,
            outcomes == null ? List.of() : outcomes, error)));
  }

  private void onSubmitted(Message.Submitted m) {
    var c = clusters.get(m.cluster());
    c.submitInFlight = false;
    inFlight--;
    c.submitCalls++;
    var byId = new HashMap<String, SubmitOutcome>();
    m.outcomes().forEach(o -> byId.put(o.jobId(), o));
    var now = Instant.now();
    var toCancel = new ArrayList<JobRef>();
    if (m.error() == null) {
      c.lastError = null;
    }
    // the cluster refused for now or left us in doubt: back off once for the whole call
    boolean backOff = false;
    for (var id : m.jobIds()) {
      var job = jobs.get(id);
      if (job == null) {
        continue;
      }
      var outcome = byId.get(id);
      if (outcome instanceof SubmitOutcome.Accepted a) {
        job.adopt(a.job());
        job.attemptState = JobState.PENDING;
        job.nativeState = "SUBMITTED";
        changes.add(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
        if (job.state == JobState.CANCELLING) {
          toCancel.add(a.job());
          job.cancelSentAt = System.currentTimeMillis();
          changes.add(new Change.UpdateJob(job.row(now)));
        } else {
          move(job, Transitions.Event.ACCEPTED, null);
        }
        MDC.put("job", id);
        LOG.debug("submitted {} to {} as {}", id, c.name, a.job().nativeId());
        MDC.remove("job");
        continue;
      }
      // In doubt: the batch system may have the job. Look it up by tag before anything else.
      var doubt = switch (outcome) {
        case SubmitOutcome.InDoubt d -> d.reason();
        case SubmitOutcome.Rejected r -> null;
        case null -> m.error() == null ? "backend '" + c.backendName + "' returned no outcome "
            + "for the job" : m.error().isRetryable() ? m.error().getMessage() : null;
        default -> null;
      };
      if (doubt != null) {
        inDoubt(c, job, doubt);
        backOff = true;
        job.doubtFromBug = outcome == null && m.error() != null
            && m.error().getCause() instanceof RuntimeException;
        continue;
      }
      var error = outcome instanceof SubmitOutcome.Rejected r ? r.error() : m.error();
      if (job.state == JobState.CANCELLING) {
        endAttempt(c, job, JobState.CANCELLED, "not submitted: " + error.getMessage(), now);
        finish(job, Transitions.Event.CANCELLED, null, "cancelled during submission");
      } else if (error.isRetryable() && job.clusterIndex + 1 >= job.clusters().size()) {
        // the batch system said no for now and there is nowhere else to go: the same attempt,
        // after the back-off and after a lookup (an attempt is never submitted twice unasked)
        LOG.debug("job {}: cluster {} refused it for now, will retry: {}", id, c.name,
            error.getMessage());
        c.lastError = error.getMessage();
        backOff = true;
        job.doubt = null;
        needLookup(c, job);
      } else {
        // refused (or not now, with other clusters to try): the job's next cluster, in order
        endAttempt(c, job, JobState.FAILED, error.getMessage(), now);
        nextClusterOrFail(job, "rejected by cluster '" + c.name + "': " + error.getMessage());
      }
    }
    if (backOff) {
      c.failed(tuning.retryBackoff(), System.currentTimeMillis());
    } else if (!byId.isEmpty()) {
      c.answered();
    }
    if (!toCancel.isEmpty()) {
      afterCommit.add(() -> dispatchCancel(c, toCancel));
    }
    afterCommit.add(() -> dispatchSubmits(c));
  }

  private void nextClusterOrFail(Job job, String reason) {
    clusters.get(job.cluster).live.remove(job.id);
    if (job.clusterIndex + 1 < job.clusters().size()) {
      job.clusterIndex++;
      move(job, Transitions.Event.NEW_ATTEMPT, reason + "; trying cluster '" + job.currentCluster() + "'");
      clusters.get(job.currentCluster()).queue.add(job);
    } else {
      finish(job, Transitions.Event.FAILED, null, reason);
    }
  }

  /**
   * The submission of the job's attempt may have reached the batch system: it is looked up by its
   * tag (repeated with back-off until the batch system answers) before it may be submitted again.
   */
  private void inDoubt(Cluster c, Job job, String reason) {
    MDC.put("job", job.id);
    LOG.info("job {}: submission to cluster {} is in doubt ({}); looking up {} before it may be "
        + "submitted again", job.id, c.name, reason, job.request().tag());
    MDC.remove("job");
    job.doubt = reason;
    c.lastError = reason;
    needLookup(c, job);
  }

  private void dispatchLookup(Cluster c, List<Job> batch) {
    var requests = batch.stream().map(Job::request).toList();
    var ids = batch.stream().map(j -> j.id).toList();
    inFlight++;
    var inc = incarnation;
    c.dispatch(Cluster.Call.LOOKUP, backend -> backend.lookup(requests), (found, error) ->
        mailbox.add(new Message.LookedUp(inc, c.name, ids, found == null ? Map.of() : found,
            error)));
  }

  private void onLookedUp(Message.LookedUp m) {
    inFlight--;
    var c = clusters.get(m.cluster());
    var now = Instant.now();
    if (m.error() != null) {
      // the batch system did not answer: ask again, waiting longer each time, never submit
      c.failed(tuning.retryBackoff(), System.currentTimeMillis());
      LOG.warn("lookup of {} job(s) on cluster {} failed ({} failed call(s) in a row there), "
          + "asking again in {}ms: {}", m.jobIds().size(), c.name, c.failures,
          c.unavailableUntil - System.currentTimeMillis(), m.error().getMessage());
      c.lastError = m.error().getMessage();
      for (var id : m.jobIds()) {
        var job = jobs.get(id);
        if (job != null && job.ref != null) {
          c.lostChecks.add(id); // unknown is not lost while the cluster does not answer
        } else if (job != null) {
          needLookup(c, job);
        }
      }
      return;
    }
    c.answered();
    for (var id : m.jobIds()) {
      var job = jobs.get(id);
      if (job == null) {
        continue;
      }
      if (job.ref != null) {
        lostCheckAnswered(c, job, m.found().get(id), now);
        continue;
      }
      var doubt = job.doubt;
      var bug = job.doubtFromBug;
      job.doubt = null;
      job.doubtFromBug = false;
      var ref = m.found().get(id);
      MDC.put("job", id);
      if (ref != null) {
        LOG.info("job {}: {}; found {} on cluster {} by its tag: adopted, not submitted again",
            id, doubt == null ? "submitted before the engine stopped" : "in-doubt submission "
                + "resolved", ref.nativeId(), c.name);
      } else if (doubt != null) {
        LOG.info("job {}: in-doubt submission resolved: cluster {} has no job tagged {}; {}",
            id, c.name, job.request().tag(), bug ? "not submitting it again (the backend's "
            + "failure was a bug, which would strike again)" : "submitting it again");
      }
      MDC.remove("job");
      if (ref != null) {
        job.adopt(ref);
        job.attemptState = JobState.PENDING;
        job.nativeState = "FOUND";
        changes.add(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
        if (job.state == JobState.CANCELLING) {
          afterCommit.add(() -> dispatchCancel(c, List.of(ref)));
        } else {
          move(job, Transitions.Event.ACCEPTED, null);
        }
      } else if (job.state == JobState.CANCELLING) {
        endAttempt(c, job, JobState.CANCELLED, "never reached the batch system", now);
        finish(job, Transitions.Event.CANCELLED, null, "cancelled before it was submitted");
      } else if (bug) {
        // a plugin bug would only strike again: no second submit, the job's next cluster or fail
        endAttempt(c, job, JobState.FAILED, doubt, now);
        nextClusterOrFail(job, "rejected by cluster '" + c.name + "': " + doubt);
      } else {
        // Never reached the batch system: submitting the same attempt again is safe.
        c.toSubmit.add(job);
      }
    }
    afterCommit.add(() -> dispatchSubmits(c));
  }

  /** The lookup of a job whose lost clock ran out: found, it gets one more round; else lost. */
  private void lostCheckAnswered(Cluster c, Job job, JobRef found, Instant now) {
    var reason = job.doubt;
    job.doubt = null;
    if (!c.name.equals(job.cluster) || job.state.isTerminal() || job.collecting) {
      return;
    }
    if (found == null) {
      declareLost(c, job, reason == null ? "no news" : reason, now);
      return;
    }
    LOG.info("job {}: cluster {} gave no news of it for {}s, but its tag was found ({}); "
        + "waiting once more", job.id, c.name, tuning.lostAfter().toSeconds(), found.nativeId());
    job.lostChecked = true;
    job.unknownSince = now.toEpochMilli();
    if (!found.nativeId().equals(job.ref.nativeId())) {
      job.adopt(found);
      changes.add(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
    }
  }

  // ---------------------------------------------------------------- polling

  private void dispatchPoll(Cluster c) {
    var refs = new ArrayList<JobRef>();
    for (var id : c.live) {
      var job = jobs.get(id);
      if (job != null && job.ref != null && !job.collecting) {
        refs.add(job.ref);
      }
    }
    c.pollWanted = false;
    c.nextPollAt = System.currentTimeMillis() + c.pollInterval.toMillis();
    if (refs.isEmpty()) {
      return;
    }
    c.pollInFlight = true;
    inFlight++;
    var inc = incarnation;
    var asked = refs.stream().map(JobRef::jobId).toList();
    c.dispatch(Cluster.Call.POLL, backend -> backend.poll(refs), (statuses, error) ->
        mailbox.add(new Message.Polled(inc, c.name, asked,
            statuses == null ? Map.of() : statuses, error)));
  }

  private void onPolled(Message.Polled m) {
    var c = clusters.get(m.cluster());
    c.pollInFlight = false;
    c.polls++;
    inFlight--;
    if (m.error() != null) {
      // Unknown is not dead: an unanswered poll changes no job.
      c.lastError = m.error().getMessage();
      c.failed(tuning.retryBackoff(), System.currentTimeMillis());
      c.nextPollAt = Math.max(c.nextPollAt, c.unavailableUntil);
      LOG.warn("poll of cluster {} failed ({}): {}", c.name,
          m.error().isRetryable() ? "will retry" : "not retryable", m.error().getMessage());
      return;
    }
    c.lastError = null;
    c.answered();
    var now = Instant.now();
    var nowMillis = now.toEpochMilli();
    for (var id : m.asked()) {
      var job = jobs.get(id);
      if (job == null || job.ref == null || !c.name.equals(job.cluster) || job.collecting) {
        continue;
      }
      // the batch system answered, but not about this job: that is no news, not an end
      var status = m.statuses().getOrDefault(id, new JobStatus.Unknown("cluster '" + c.name
          + "' answered the poll without this job"));
      if (status instanceof JobStatus.Unknown u) {
        lostClock(c, job, u.reason(), now);
        continue;
      }
      job.unknownSince = 0;
      job.lostChecked = false;
      job.heldSince = status instanceof JobStatus.Held ? job.heldSince : 0;
      var changed = !status.nativeState().equals(job.nativeState);
      job.nativeState = status.nativeState();
      // [issue 14, SPI] attribute updates from the poll: stored with this poll's state changes
      var updated = job.ref.withAttributes(status.attributeUpdates());
      if (updated != job.ref) {
        job.adopt(updated);
        changes.add(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
      }
      switch (status) {
        case JobStatus.Pending p -> observe(c, job, JobState.PENDING, p.reason(), changed, now);
        case JobStatus.Running r -> observe(c, job, JobState.RUNNING, null, changed, now);
        case JobStatus.Held h -> {
          if (!heldTooLong(c, job, h, now)) {
            observe(c, job, JobState.PAUSED, h.reason(), changed, now);
          }
        }
        case JobStatus.Exited x -> collect(c, job, status);
        case JobStatus.Failed f -> collect(c, job, status);
        case JobStatus.Cancelled x -> collect(c, job, status);
        case JobStatus.Unknown u -> { }
      }
    }
    if (c.pollWanted) {
      afterCommit.add(() -> {
        if (!c.pollInFlight) {
          dispatchPoll(c);
        }
      });
    }
  }

  /**
   * A job the batch system cannot account for: after {@code lost_after} without news it is looked
   * up by its tag once; if that finds nothing (or the clock runs out again), the attempt is lost:
   * its native job is cancelled through the outbox, and the job retried or failed.
   */
  private void lostClock(Cluster c, Job job, String reason, Instant now) {
    var nowMillis = now.toEpochMilli();
    if (job.unknownSince == 0) {
      job.unknownSince = nowMillis;
      return;
    }
    if (nowMillis - job.unknownSince <= tuning.lostAfter().toMillis()
        || c.lostChecks.contains(job.id)) {
      return;
    }
    if (!job.lostChecked) {
      job.doubt = reason;
      c.lostChecks.add(job.id);
      return;
    }
    declareLost(c, job, reason, now);
  }

  private void declareLost(Cluster c, Job job, String reason, Instant now) {
    var why = "lost on cluster '" + c.name + "': no news of it for "
        + tuning.lostAfter().toSeconds() + "s and its tag was not found (" + reason + ")";
    endAttempt(c, job, JobState.FAILED, why, now);
    abandon(c, job);
    retryOrFinish(job, null, true, why);
  }

  /**
   * A hold the user did not ask for, kept past the cluster's {@code held_timeout}: the attempt is
   * abandoned (cancelled through the outbox) and the job retried or failed with the hold reason.
   * A job the user paused is held on purpose and never times out.
   */
  private boolean heldTooLong(Cluster c, Job job, JobStatus.Held held, Instant now) {
    var timeout = c.policy.heldTimeout();
    if (timeout == null || job.desired != JobRow.Desired.RUN
        || job.state == JobState.CANCELLING) {
      job.heldSince = 0;
      return false;
    }
    var nowMillis = now.toEpochMilli();
    if (job.heldSince == 0) {
      job.heldSince = nowMillis;
    }
    if (nowMillis - job.heldSince <= timeout.toMillis()) {
      return false;
    }
    var why = "held by cluster '" + c.name + "' for longer than its held_timeout ("
        + timeout.toSeconds() + "s): " + (held.reason() == null ? held.nativeState()
        : held.reason());
    endAttempt(c, job, JobState.FAILED, why, now);
    abandon(c, job);
    retryOrFinish(job, null, true, why);
    return true;
  }

  private void observe(Cluster c, Job job, JobState state, String reason, boolean changed,
      Instant now) {
    if (job.state == JobState.CANCELLING) {
      if (changed) {
        job.attemptState = state;
        changes.add(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
      }
      return;
    }
    var event = switch (state) {
      case PENDING -> Transitions.Event.SEEN_PENDING;
      case RUNNING -> Transitions.Event.SEEN_RUNNING;
      default -> Transitions.Event.SEEN_HELD;
    };
    if (job.state != state && Transitions.allows(job.state, event)) {
      job.attemptState = state;
      changes.add(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
      move(job, event, reason);
    } else if (changed) {
      changes.add(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
    }
  }

  private void collect(Cluster c, Job job, JobStatus status) {
    job.collecting = true;
    var ref = job.ref;
    var spec = job.spec();
    inFlight++;
    var inc = incarnation;
    c.dispatch(Cluster.Call.COLLECT, backend -> {
      backend.collect(ref, spec);
      return null;
    }, (none, error) -> mailbox.add(new Message.Collected(inc, ref.jobId(), status, error)));
  }

  private void onCollected(Message.Collected m) {
    inFlight--;
    var job = jobs.get(m.jobId());
    if (job == null) {
      return;
    }
    job.collecting = false;
    var c = clusters.get(job.cluster);
    var now = Instant.now();
    if (m.error() != null && m.error().isRetryable()) {
      LOG.warn("job {}: outputs not collected yet, will retry: {}", job.id,
          m.error().getMessage());
      return; // the next poll sees the end again and retries
    }
    var outputProblem = m.error() == null ? null : "outputs not collected: "
        + m.error().getMessage();
    switch (m.status()) {
      case JobStatus.Exited x -> {
        job.exitCode = x.exitCode();
        var succeeded = RetryRules.succeeded(job.spec(), x.exitCode()); // i20: success_exit_codes
        if (succeeded && outputProblem == null) {
          endAttempt(c, job, JobState.SUCCEEDED, x.reason(), now);
          cleanAfterCollect(c, job);
          finish(job, Transitions.Event.SUCCEEDED, x.exitCode(), null);
        } else {
          var reason = succeeded ? outputProblem : "exited with code " + x.exitCode()
              + (x.reason() == null ? "" : " (" + x.reason() + ")");
          endAttempt(c, job, JobState.FAILED, reason, now);
          retryOrFinish(job, x.exitCode(), false, reason);
        }
      }
      case JobStatus.Failed f -> {
        job.exitCode = f.exitCode() < 0 ? null : f.exitCode();
        endAttempt(c, job, JobState.FAILED, f.reason(), now);
        retryOrFinish(job, job.exitCode, true, f.reason());
      }
      case JobStatus.Cancelled x -> {
        endAttempt(c, job, JobState.CANCELLED, x.reason(), now);
        if (job.desired == JobRow.Desired.PAUSE) {
          c.live.remove(job.id);
          job.adopt(null);
          move(job, Transitions.Event.PAUSED_BY_USER, "paused: stopped on cluster '" + c.name + "'");
        } else if (job.desired == JobRow.Desired.CANCEL) {
          finish(job, Transitions.Event.CANCELLED, null, x.reason() == null ? "cancelled" : x.reason());
        } else {
          finish(job, Transitions.Event.CANCELLED, null, "cancelled outside Jobyard"
              + (x.reason() == null ? "" : ": " + x.reason()));
        }
      }
      default -> { }
    }
  }

  /**
   * A job that succeeded and whose outputs came home leaves nothing on the cluster worth its quota:
   * its sandbox is cleaned through the outbox (so a crash cannot skip or half-do it), unless the
   * cluster keeps sandboxes ({@code keep_sandbox}) or the job's stdout or stderr has no file of
   * its own, when the sandbox holds the only log (read by {@code logs}; {@code flush} cleans it).
   */
  private void cleanAfterCollect(Cluster c, Job job) {
    var spec = job.spec();
    if (c.policy.keepSandbox() || job.ref == null || spec.stdout() == null
        || spec.stderr() == null) {
      return;
    }
    outbox(job.id, CLEAN, c.name, job.ref.nativeId(), job.attributesJson());
  }

  /** {@code lost}: the attempt ended without an exit code (lost, evicted, held, node failure). */
  private void retryOrFinish(Job job, Integer exitCode, boolean lost, String reason) {
    if (job.desired == JobRow.Desired.RUN && job.retriesLeft > 0
        && RetryRules.covers(job.spec(), exitCode, lost)) { // i20: retry_on
      job.retriesLeft--;
      job.exitCode = exitCode;
      job.clusterIndex = RetryRules.clusterForRetry(job.spec(), job.clusterIndex,
          job.clusters().size()); // i20: retry_elsewhere
      var delay = RetryRules.delay(job.spec(), RetryRules.retriesDone(job.spec(),
          job.retriesLeft)); // retry_delay, retry_backoff
      var wait = delay.isZero() ? "" : "; next attempt not before "
          + Instant.now().plus(delay).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
      move(job, Transitions.Event.NEW_ATTEMPT, reason + "; retrying (" + job.retriesLeft
          + " retries left)" + wait);
      if (delay.isZero()) {
        clusters.get(job.currentCluster()).queue.add(job);
      } else {
        job.notBefore = RetryWait.notBefore(Instant.now().plus(delay));
        retryWait.hold(job);
      }
    } else {
      finish(job, Transitions.Event.FAILED, exitCode, reason);
    }
  }

  private void endAttempt(Cluster c, Job job, JobState state, String reason, Instant now) {
    job.attemptState = state;
    var saved = job.reason;
    job.reason = reason;
    changes.add(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
    job.reason = saved;
  }

  private void dispatchCancel(Cluster c, List<JobRef> refs) {
    inFlight++;
    var inc = incarnation;
    var now = System.currentTimeMillis();
    for (var r : refs) {
      var j = jobs.get(r.jobId());
      if (j != null) {
        j.cancelSentAt = now;
        if (j.state == JobState.CANCELLING) {
          c.cancelling.add(j.id);
        }
      }
    }
    var ids = refs.stream().map(JobRef::jobId).toList();
    c.dispatch(Cluster.Call.CANCEL, backend -> {
      backend.cancel(refs);
      return null;
    }, (none, error) -> mailbox.add(new Message.CancelSent(inc, c.name, ids, error)));
  }

  private void onCancelSent(Message.CancelSent m) {
    inFlight--;
    var c = clusters.get(m.cluster());
    if (m.error() != null) {
      LOG.warn("cancel on cluster {} failed, will retry: {}", c.name, m.error().getMessage());
      c.lastError = m.error().getMessage();
      for (var id : m.jobIds()) {
        var j = jobs.get(id);
        if (j != null) {
          j.cancelSentAt = 1; // resend at the next tick after the back-off
        }
      }
      return;
    }
    c.pollWanted = true;
  }

  // ---------------------------------------------------------------- state changes

  /**
   * Changes the job's state as the {@link Transitions} table says for {@code event}, and does the
   * table's effects. A move the table forbids is a bug here: it fails tests (assertions) and is
   * logged and ignored in production, where the job keeps its state.
   */
  private void move(Job job, Transitions.Event event, String reason) {
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
  private void finish(Job job, Transitions.Event event, Integer exitCode, String reason) {
    job.exitCode = exitCode;
    move(job, event, reason);
    if (!job.state.isTerminal()) {
      return; // forbidden, and logged: the job stays as it was
    }
    jobs.remove(job.id);
    var to = job.state;
    releaseDependents(job); // i20
    MDC.put("job", job.id);
    LOG.info("job {} ('{}') {}{}", job.id, job.name, to.name().toLowerCase(),
        reason == null ? "" : ": " + reason);
    MDC.remove("job");
  }

  private JobEvent event(Job job, JobState from) {
    return new JobEvent(job.id, job.name, job.owner, job.session, job.cluster, from,
        job.state, job.exitCode, job.reason);
  }

  /** Hands this turn's changes to the writer; what waited for them runs once they are durable. */
  private void flush() {
    if (changes.isEmpty() && afterCommit.isEmpty() && events.isEmpty()) {
      return;
    }
    var actions = new ArrayList<>(afterCommit);
    var published = new ArrayList<>(events);
    if (!published.isEmpty() && !listeners.isEmpty()) {
      actions.add(() -> published.forEach(ev -> listeners.forEach(l -> {
        try {
          l.changed(ev);
        } catch (RuntimeException e) {
          LOG.warn("a job listener failed: {}", e.toString());
        }
      })));
    }
    var batch = List.copyOf(changes);
    changes.clear();
    afterCommit.clear();
    events.clear();
    if (batch.isEmpty()) {
      actions.forEach(Runnable::run);
      if (!changes.isEmpty() || !afterCommit.isEmpty()) {
        flush();
      }
      return;
    }
    writer.submit(new StoreWriter.Batch(batch,
        () -> mailbox.add(new Message.Committed(actions)),
        e -> mailbox.add(new Message.StoreFailed(e))));
  }

  private void publishStats() {
    var byCluster = new LinkedHashMap<String, Integer>();
    var waiting = new LinkedHashMap<String, Integer>();
    clusters.values().forEach(c -> {
      byCluster.put(c.name, c.live.size());
      waiting.put(c.name, c.queue.size() + c.toSubmit.size());
    });
    stats = new Stats(jobs.size(), byCluster, stats.turns() + 1, waiting);
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Rebuilds the live jobs from the store ({@link Recovery}); outbox entries committed before a
   * crash but not carried out are carried out now.
   */
  private void recover() {
    seq = store.maxSeq();
    outboxSeq = store.maxOutboxId();
    store.outbox().forEach(this::runOutbox);
    take(store.liveJobsWithAttempts());
  }

  /**
   * i18: jobs this engine just took over (recover() may have loaded them already); while the
   * store is away they are asked for again a second later, as they are this engine's now.
   */
  private void onAdopt(Message.Adopt m) {
    try {
      take(store.liveJobsWithAttempts(m.jobIds().stream().filter(id -> !jobs.containsKey(id))
          .toList()));
    } catch (org.jobyard.engine.store.StoreUnavailableException e) {
      timer.schedule(() -> mailbox.add(m), 1, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  /** Takes live jobs from the store on: at a start, or taken over from another engine (i18). */
  private void take(List<JobStore.LiveJob> live) {
    var recovered = Recovery.rebuild(live, clusters, defaultClusters, Instant.now());
    jobs.putAll(recovered.jobs());
    changes.addAll(recovered.changes());
    recovered.gated().forEach(this::queueUnlessWaiting); // i20
    recovered.delayed().forEach(retryWait::hold);
  }

  // ---------------------------------------------------------------- dependencies (i20)
  // The rules live in org.jobyard.engine.dependency; these three methods only apply them.

  /** Each spec's {@code after} as ids: names of this submission, or ids of existing jobs. */
  private List<List<JobSpec.Dependency>> resolveDependencies(List<JobSpec> specs,
      List<String> ids) {
    var out = new ArrayList<List<JobSpec.Dependency>>();
    var names = specs.stream().anyMatch(s -> !s.after().isEmpty()) ? new JobGraph.Names(specs)
        : null;
    for (int i = 0; i < specs.size(); i++) {
      var edges = new ArrayList<JobSpec.Dependency>();
      for (var d : specs.get(i).after()) {
        var targets = names.targets(i, d.job());
        if (targets.isEmpty()) {
          if (!jobs.containsKey(d.job()) && store.job(d.job()).isEmpty()) {
            throw new RejectedException("job " + (i + 1) + " ('" + specs.get(i).name()
                + "'): field 'after': no job named or with id '" + d.job() + "'; nothing was "
                + "stored");
          }
          edges.add(d);
        }
        targets.forEach(t -> edges.add(new JobSpec.Dependency(ids.get(t), d.condition())));
      }
      out.add(edges);
    }
    return out;
  }

  /** Queues a job whose dependencies are met; otherwise it waits (reason says for what). */
  private void queueUnlessWaiting(Job job) {
    switch (dependencies.check(job.id, job.spec().after(), this::known)) {
      case DependencyGate.Verdict.Ready r -> {
        if (job.reason != null && job.reason.startsWith("waiting for ")) {
          job.reason = null;
          changes.add(new Change.UpdateJob(job.row(Instant.now())));
        }
        clusters.get(job.currentCluster()).queue.add(job);
      }
      case DependencyGate.Verdict.Wait w -> {
        if (!w.reason().equals(job.reason)) {
          job.reason = w.reason();
          changes.add(new Change.UpdateJob(job.row(Instant.now())));
        }
      }
      case DependencyGate.Verdict.Never n ->
          finish(job, Transitions.Event.CANCELLED, null, n.reason());
    }
  }

  /** A job's end wakes its dependents; a worklist, so a long chain of cancels is no recursion. */
  private void releaseDependents(Job ended) {
    releasing.add(ended);
    if (releasing.size() > 1) {
      return; // the loop below, further up the stack, takes it
    }
    while (!releasing.isEmpty()) {
      var done = releasing.peekFirst();
      for (var id : dependencies.ended(done.id,
          new DependencyGate.Known(done.name, done.state))) {
        var job = jobs.get(id);
        if (job != null && job.state == JobState.QUEUED) {
          queueUnlessWaiting(job);
        }
      }
      releasing.removeFirst();
    }
  }

  private java.util.Optional<DependencyGate.Known> known(String id) {
    var live = jobs.get(id);
    if (live != null) {
      return java.util.Optional.of(new DependencyGate.Known(live.name, live.state));
    }
    return store.job(id).map(r -> new DependencyGate.Known(r.name(), r.state()));
  }

  static String newId() {
    var chars = new char[12];
    for (int i = 0; i < chars.length; i++) {
      chars[i] = ID_CHARS[RANDOM.nextInt(ID_CHARS.length)];
    }
    return "jy-" + new String(chars);
  }

}
