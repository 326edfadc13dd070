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
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.dependency.DependencyGate;
import org.jobyard.engine.drain.Admission;
import org.jobyard.engine.retry.RetryRules;
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
 *
 * <p>Where things are: {@link UserCommands} (what users ask), per cluster a {@link Submitter}
 * (staging, batched submits, lookups by tag) and a {@link Poller} (polls, lost clock,
 * {@code held_timeout}, collection), all on this thread through {@link Actor}; {@link Transitions}
 * (every state rule), {@link Recovery} (start from the store), {@link Cluster#dispatch} (every
 * backend call). This class keeps the loop, the state-change primitives, cancels and the outbox.
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
  /** Replaced whole on the manager's thread by a reload (ops: onReconfigure). */
  private volatile Map<String, Cluster> clusters;
  private final List<String> defaultClusters;
  /** Each cluster's submissions and polls, by cluster name (see {@link Actor}). */
  private final Map<String, Submitter> submitters = new HashMap<>();
  private final Map<String, Poller> pollers = new HashMap<>();
  private final UserCommands commands;
  private final Actor actor;
  /** ops: drained clusters and downtime windows take no new submissions. */
  private final Admission admission;
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
  /** ops (reload): clusters removed while drained with jobs; see retireIdle. */
  private final java.util.Set<String> retiring = new java.util.LinkedHashSet<>();
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

  /**
   * Numbers for health and progress, refreshed each turn.
   *
   * @param waitingByCluster jobs the engine holds for a cluster, not yet handed to it (its queue)
   */
  public record Stats(int liveJobs, Map<String, Integer> liveByCluster, long turns,
      Map<String, Integer> waitingByCluster) {}

  /** How long a cancel may go unanswered before it is sent again; tests shorten it. */
  private volatile long cancelResendMillis = CANCEL_RESEND_MILLIS;

  public JobManager(JobStore store, StoreWriter writer, EngineConfig.Tuning tuning,
      Collection<Cluster> clusters, List<String> defaultClusters) {
    this(store, writer, tuning, clusters, defaultClusters, Admission.OPEN);
  }

  /** @param admission which clusters take no new submissions now (drained, in downtime) */
  public JobManager(JobStore store, StoreWriter writer, EngineConfig.Tuning tuning,
      Collection<Cluster> clusters, List<String> defaultClusters, Admission admission) {
    this.admission = java.util.Objects.requireNonNull(admission, "admission is null");
    this.store = store;
    this.writer = writer;
    this.tuning = tuning;
    var byName = new LinkedHashMap<String, Cluster>();
    clusters.forEach(c -> byName.put(c.name, c));
    this.clusters = java.util.Collections.unmodifiableMap(byName);
    this.defaultClusters = List.copyOf(defaultClusters);
    this.actor = new Turn();
    this.commands = new UserCommands(actor, () -> this.clusters, this.defaultClusters, store);
    this.clusters.values().forEach(this::attach);
  }

  /** A cluster's submitter and poller, made when it joins (at start or by a reload). */
  private void attach(Cluster c) {
    var poller = new Poller(actor, c);
    pollers.put(c.name, poller);
    submitters.put(c.name, new Submitter(actor, c, poller, admission));
  }

  private void detach(String cluster) {
    pollers.remove(cluster);
    submitters.remove(cluster);
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

  /**
   * ops (reload): adds and removes clusters, all or none. A cluster with live or queued jobs is
   * removed only when drained (or in downtime): it then stays until its last job has ended.
   */
  public CompletableFuture<Void> reconfigure(List<Cluster> add, List<String> remove) {
    var reply = new CompletableFuture<Void>();
    post(new Message.Reconfigure(List.copyOf(add), List.copyOf(remove), reply));
    return reply;
  }

  /** i18: recovers live jobs this engine just took over, as at a start (lease.LeaseService). */
  public void adopt(List<String> jobIds) {
    adopt(jobIds, List.of());
  }

  /** i18: ... and carries out the clean-ups (outbox entries) it took over with them. */
  public void adopt(List<String> jobIds, List<Long> cleanUps) {
    mailbox.add(new Message.Adopt(List.copyOf(jobIds), List.copyOf(cleanUps)));
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
      case Message.Submit m -> commands.onSubmit(m);
      case Message.Cancel m -> commands.onCancel(m);
      case Message.Stop m -> onStop(m);
      case Message.Restart m -> commands.onRestart(m);
      case Message.Flush m -> commands.onFlush(m);
      case Message.Pause m -> commands.onPause(m);
      case Message.Resume m -> commands.onResume(m);
      case Message.Reconfigure m -> onReconfigure(m); // ops: reload
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
          submitters.get(m.cluster()).onSubmitted(m);
        }
      }
      case Message.Polled m -> {
        if (m.incarnation() == incarnation) {
          pollers.get(m.cluster()).onPolled(m);
        }
      }
      case Message.LookedUp m -> {
        if (m.incarnation() == incarnation) {
          submitters.get(m.cluster()).onLookedUp(m);
        }
      }
      case Message.Collected m -> {
        if (m.incarnation() == incarnation) {
          pollers.get(m.cluster()).onCollected(m);
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

  private void onReconfigure(Message.Reconfigure m) {
    var next = new LinkedHashMap<>(clusters);
    for (var name : m.remove()) {
      var c = clusters.get(name);
      if (c == null) {
        continue;
      }
      var busy = c.live.size() + c.queue.size() + c.toSubmit.size()
          + retryWait.waitingFor(name);
      if (busy > 0 && admission.closed(name).isEmpty()) {
        throw new RejectedException("cluster '" + name + "' cannot be removed: it has " + busy
            + " live or queued job(s); drain it first ('jobyard drain " + name + "'), then "
            + "reload: it is removed once they have ended");
      }
      if (busy > 0) {
        retiring.add(name); // drained: tracked to the end of its jobs, then removed
      } else {
        next.remove(name);
      }
    }
    for (var c : m.add()) {
      if (next.putIfAbsent(c.name, c) != null) {
        throw new RejectedException("cluster '" + c.name + "' is configured already");
      }
      retiring.remove(c.name);
    }
    var removed = clusters.values().stream().filter(c -> !next.containsKey(c.name)).toList();
    clusters = java.util.Collections.unmodifiableMap(next);
    m.add().forEach(this::attach);
    removed.forEach(c -> detach(c.name));
    removed.forEach(c -> Thread.ofPlatform().daemon().name("close-" + c.name).start(c::close));
    afterCommit.add(() -> m.reply().complete(null));
  }

  /** ops (reload): removed clusters that were drained with jobs, closed once they have none. */
  private void retireIdle() {
    for (var it = retiring.iterator(); it.hasNext(); ) {
      var c = clusters.get(it.next());
      if (c == null) {
        it.remove();
      } else if (c.live.isEmpty() && c.queue.isEmpty() && c.toSubmit.isEmpty()
          && c.outbox.isEmpty() && retryWait.waitingFor(c.name) == 0) {
        it.remove();
        var next = new LinkedHashMap<>(clusters);
        next.remove(c.name);
        clusters = java.util.Collections.unmodifiableMap(next);
        detach(c.name);
        LOG.info("cluster {} removed: its last job has ended", c.name);
        // its worker waits for the calls queued on it: closed off the manager's thread
        Thread.ofPlatform().daemon().name("close-" + c.name).start(c::close);
      }
    }
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
    if (!retiring.isEmpty()) {
      retireIdle(); // ops: reload
    }
    var now = System.currentTimeMillis();
    for (var job : retryWait.due(now)) {
      var c = clusters.get(job.currentCluster());
      if (c != null) {
        c.queue.add(job);
      }
    }
    for (var c : clusters.values()) {
      if (!c.queue.isEmpty()) {
        admission.closed(c.name).ifPresent(why -> reroute(c, why)); // ops: drain
      }
      c.paceWakeScheduled = false;
      if (!c.live.isEmpty() && now >= c.nextPollAt) {
        c.pollWanted = true;
      }
      if (now >= c.unavailableUntil) {
        submitters.get(c.name).tick();
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

  /** Moves queued jobs to SUBMITTING where clusters have room, and starts due polls. */
  private void schedule() {
    if (stopReply != null) {
      return;
    }
    var now = Instant.now();
    for (var c : clusters.values()) {
      submitters.get(c.name).stage(now);
      pollers.get(c.name).pollIfDue();
    }
  }

  /**
   * ops (drain): the queued jobs of a cluster that takes no new submissions go to the next of
   * their clusters that does; jobs with none wait where they are.
   */
  private void reroute(Cluster c, String why) {
    var waiting = why + "; waiting until it takes jobs again";
    for (var job : c.queue.items()) {
      var list = job.clusters();
      Cluster target = null;
      int i = job.clusterIndex;
      for (int k = 1; k < list.size() && target == null; k++) {
        i = (job.clusterIndex + k) % list.size();
        var candidate = clusters.get(list.get(i));
        if (candidate != null && admission.closed(candidate.name).isEmpty()) {
          target = candidate;
        }
      }
      if (target != null) {
        c.queue.remove(job);
        job.clusterIndex = i;
        job.reason = why + "; sent to cluster '" + target.name + "'";
        changes.add(new Change.UpdateJob(job.row(Instant.now())));
        target.queue.add(job);
      } else if (!waiting.equals(job.reason)) {
        job.reason = waiting; // ps and show say why it waits (written once, not every tick)
        changes.add(new Change.UpdateJob(job.row(Instant.now())));
      }
    }
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

  // ---------------------------------------------------------------- polling

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

  /** What the per-cluster pieces may do: the manager's own primitives, on its thread. */
  private final class Turn implements Actor {
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
      return stopReply != null;
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
      mailbox.add(message);
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
        timer.schedule(() -> mailbox.add(new Message.Tick()), millis,
            java.util.concurrent.TimeUnit.MILLISECONDS);
      }
    }

    @Override
    public void move(Job job, Transitions.Event event, String reason) {
      JobManager.this.move(job, event, reason);
    }

    @Override
    public void finish(Job job, Transitions.Event event, Integer exitCode, String reason) {
      JobManager.this.finish(job, event, exitCode, reason);
    }

    @Override
    public void endAttempt(Cluster c, Job job, JobState state, String reason, Instant now) {
      JobManager.this.endAttempt(c, job, state, reason, now);
    }

    @Override
    public void retryOrFinish(Job job, Integer exitCode, boolean lost, String reason) {
      JobManager.this.retryOrFinish(job, exitCode, lost, reason);
    }

    @Override
    public void nextClusterOrFail(Job job, String reason) {
      JobManager.this.nextClusterOrFail(job, reason);
    }

    @Override
    public void abandon(Cluster c, Job job) {
      JobManager.this.abandon(c, job);
    }

    @Override
    public void clean(Cluster c, Job job) {
      outbox(job.id, CLEAN, c.name, job.ref.nativeId(), job.attributesJson());
    }

    @Override
    public void dispatchCancel(Cluster c, List<JobRef> refs) {
      JobManager.this.dispatchCancel(c, refs);
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
      queueUnlessWaiting(job);
    }

    @Override
    public void overflow(Cluster c) {
      if (store.engineId() != null) {
        for (var job : Overflow.take(c)) {
          jobs.remove(job.id);
          changes.add(new Change.ReleaseJob(job.id, c.name));
        }
      }
    }

    @Override
    public void announce(Job job) {
      events.add(event(job, null));
    }

    @Override
    public void cleanLater(String jobId, String cluster, String nativeId, String attributesJson) {
      outbox(jobId, CLEAN, cluster, nativeId, attributesJson);
    }
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
      store.outbox(m.cleanUps()).stream().filter(e -> !pendingOutbox.containsKey(e.id()))
          .forEach(this::runOutbox);
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
