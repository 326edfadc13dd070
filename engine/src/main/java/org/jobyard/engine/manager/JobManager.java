package org.jobyard.engine.manager;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jobyard.api.JobSpec;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.drain.Admission;
import org.jobyard.engine.store.AttemptRow;
import org.jobyard.engine.store.JobRow;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one owner of job state (an actor). It takes {@link Message}s one at a time from its mailbox,
 * changes jobs in memory, and hands every change of a turn to the {@link StoreWriter} as one
 * batch; what must wait for durability (replies, backend calls that act on committed intent)
 * runs when the batch is committed. Backend calls run on each cluster's workers and report back
 * as messages, so this thread never waits on a batch system or the database.
 *
 * <p>Intent comes first: a job is SUBMITTING in the store before its backend sees it, and the
 * native job carries the attempt's tag; after a crash, SUBMITTING jobs are looked up by tag
 * before anything is submitted again.
 *
 * <p>Where things are: {@link UserCommands} (what users ask); {@link Clusters} (the clusters and
 * what a reload changes), and per cluster a {@link Submitter} (staging, batched submits, lookups
 * by tag) and a {@link Poller} (polls, lost clock, {@code held_timeout}, collection), all on this
 * thread through {@link Actor}; {@link Transitions} (every state rule), {@link Retries},
 * {@link Cancels}, {@link Outbox} (cancels of abandoned attempts, cleanups), {@link Reroute}
 * (drains), {@link Dependencies} (i20), {@link Recovery} (start from the store, adoption),
 * {@link Cluster#dispatch} (every backend call). This class keeps the loop and the state-change
 * primitives.
 */
public final class JobManager implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(JobManager.class);
  private static final long TICK_MILLIS = 200;
  private static final long POLL_SOON_DELAY_MILLIS = 10;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final char[] ID_CHARS = "abcdefghijkmnpqrstuvwxyz23456789".toCharArray();

  private final StoreWriter writer;
  /** The manager's state and primitives; touched only on the manager's thread. */
  private final Turn turn;
  private final UserCommands commands;
  private final LinkedBlockingQueue<Message> mailbox = new LinkedBlockingQueue<>();
  private final List<JobListener> listeners = new CopyOnWriteArrayList<>();
  private final AtomicLong incarnations = new AtomicLong();
  private volatile boolean accepting = true;
  private volatile boolean ready;
  private final CompletableFuture<Void> firstReady = new CompletableFuture<>();
  private volatile Stats stats = new Stats(0, Map.of(), 0, Map.of());

  // owned by the manager's thread
  private ScheduledExecutorService timer;
  /**
   * What runs once the last batch handed to the writer is committed, while it is not yet: a turn
   * with nothing to write adds its replies here, so no reply overtakes an earlier turn's commit
   * (i18: "not acted on" must mean the release of a job to the shared queue is already stored).
   */
  private List<Runnable> uncommitted;
  private CompletableFuture<Void> stopReply;
  private long stopDeadline;

  /**
   * Numbers for health and progress, refreshed each turn.
   *
   * @param waitingByCluster jobs the engine holds for a cluster, not yet handed to it (its queue)
   */
  public record Stats(int liveJobs, Map<String, Integer> liveByCluster, long turns,
      Map<String, Integer> waitingByCluster) {}

  public JobManager(JobStore store, StoreWriter writer, EngineConfig.Tuning tuning,
      Collection<Cluster> clusters, List<String> defaultClusters) {
    this(store, writer, tuning, clusters, defaultClusters, Admission.OPEN);
  }

  /** @param admission which clusters take no new submissions now (drained, in downtime) */
  public JobManager(JobStore store, StoreWriter writer, EngineConfig.Tuning tuning,
      Collection<Cluster> clusters, List<String> defaultClusters, Admission admission) {
    java.util.Objects.requireNonNull(admission, "admission is null");
    this.writer = writer;
    this.turn = new Turn(store, tuning, clusters, List.copyOf(defaultClusters), admission,
        mailbox::add);
    this.commands = new UserCommands(turn, turn.clusters::all, List.copyOf(defaultClusters),
        store);
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
    return turn.clusters.all();
  }

  private void post(Message.Command command) {
    if (!accepting) {
      command.reply().completeExceptionally(
          new ManagerStoppedException("the engine is stopping; nothing was changed"));
      return;
    }
    mailbox.add(command);
  }

  // ---------------------------------------------------------------- the loop

  /** Sends an unanswered cancel again after {@code after} instead of 30 s; before {@link #run}. */
  void resendCancelsAfter(java.time.Duration after) {
    turn.cancels.resendAfter(after);
  }

  @Override
  public void run() {
    // a restart after a failure takes commands again (only an orderly stop ends for good)
    accepting = stopReply == null;
    timer = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name("manager-timer").factory());
    uncommitted = null;
    turn.start(incarnations.incrementAndGet(), timer);
    ready = true;
    firstReady.complete(null);
    // the heartbeat is a message like any other
    timer.scheduleAtFixedRate(() -> mailbox.add(new Message.Tick()), TICK_MILLIS, TICK_MILLIS,
        TimeUnit.MILLISECONDS);
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
        if (stopReply != null && (turn.inFlight == 0 || System.currentTimeMillis() > stopDeadline)) {
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
    if (message instanceof Message.Report r && r.incarnation() != turn.incarnation()) {
      return; // work started before a restart of the loop: its jobs were reloaded since
    }
    switch (message) {
      case Message.Submit m -> commands.onSubmit(m);
      case Message.Cancel m -> commands.onCancel(m);
      case Message.Stop m -> onStop(m);
      case Message.Restart m -> commands.onRestart(m);
      case Message.Flush m -> commands.onFlush(m);
      case Message.Pause m -> commands.onPause(m);
      case Message.Resume m -> commands.onResume(m);
      case Message.Reconfigure m -> turn.clusters.reconfigure(m); // ops: reload
      case Message.Cleaned m -> turn.outbox.onCleaned(m);
      case Message.Tick t -> onTick();
      case Message.Adopt m -> turn.adopt(m); // i18
      case Message.PollSoon m -> {
        var c = turn.clusters.get(m.cluster());
        if (c != null && !c.pollDueScheduled && timer != null) {
          // a few milliseconds' wait lets the jobs that end together share one poll
          c.pollDueScheduled = true;
          timer.schedule(() -> mailbox.add(new Message.PollDue(c.name)), POLL_SOON_DELAY_MILLIS,
              TimeUnit.MILLISECONDS);
        }
      }
      case Message.PollDue m -> {
        var c = turn.clusters.get(m.cluster());
        if (c != null) {
          c.pollDueScheduled = false;
          c.pollWanted = true;
        }
      }
      case Message.Committed m -> {
        if (m.actions() == uncommitted) {
          uncommitted = null;
        }
        m.actions().forEach(Runnable::run);
      }
      case Message.StoreFailed m -> throw new IllegalStateException(
          "the job store failed; restarting the job manager from the store", m.error());
      case Message.Submitted m -> turn.clusters.submitter(m.cluster()).onSubmitted(m);
      case Message.Polled m -> turn.clusters.poller(m.cluster()).onPolled(m);
      case Message.LookedUp m -> turn.clusters.submitter(m.cluster()).onLookedUp(m);
      case Message.Collected m -> turn.clusters.poller(m.cluster()).onCollected(m);
      case Message.CancelSent m -> turn.cancels.onSent(m);
    }
  }

  private void onStop(Message.Stop m) {
    accepting = false;
    stopReply = m.reply();
    turn.stopping = true;
    stopDeadline = System.currentTimeMillis() + 15_000;
    LOG.info("job manager stopping: {} backend call(s) in flight", turn.inFlight);
  }

  private void finishStop() {
    // Wait for the last batch to be durable before saying we are done.
    var last = new CompletableFuture<Void>();
    writer.submit(new StoreWriter.Batch(List.of(), () -> last.complete(null),
        last::completeExceptionally));
    try {
      last.get(30, TimeUnit.SECONDS);
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

  private void onTick() {
    turn.clusters.retireIdle(); // ops: reload
    var now = System.currentTimeMillis();
    turn.dependencies.checkElsewhere(now); // i18: what waiting jobs wait for, run elsewhere
    for (var job : turn.retryWait.due(now)) {
      var c = turn.clusters.get(job.currentCluster());
      if (c != null) {
        c.queue.add(job);
      }
    }
    for (var c : turn.clusters.all().values()) {
      turn.reroute.ifClosed(c); // ops: drain
      c.paceWakeScheduled = false;
      if (!c.live.isEmpty() && now >= c.nextPollAt) {
        c.pollWanted = true;
      }
      if (now >= c.unavailableUntil) {
        turn.clusters.submitter(c.name).tick();
        turn.outbox.retryDue(c); // failed entries again, now that the back-off is over
      }
      turn.cancels.resendDue(c, now);
    }
  }

  /** Moves queued jobs to SUBMITTING where clusters have room, and starts due polls. */
  private void schedule() {
    if (stopReply != null) {
      return;
    }
    var now = Instant.now();
    for (var c : turn.clusters.all().values()) {
      turn.clusters.submitter(c.name).stage(now);
      turn.clusters.poller(c.name).pollIfDue();
    }
  }

  // ---------------------------------------------------------------- the store

  /** Hands this turn's changes to the writer; what waited for them runs once they are durable. */
  private void flush() {
    if (turn.changes.isEmpty() && turn.afterCommit.isEmpty() && turn.events.isEmpty()) {
      return;
    }
    var actions = new ArrayList<>(turn.afterCommit);
    var published = new ArrayList<>(turn.events);
    if (!published.isEmpty() && !listeners.isEmpty()) {
      actions.add(() -> published.forEach(ev -> listeners.forEach(l -> {
        try {
          l.changed(ev);
        } catch (RuntimeException e) {
          LOG.warn("a job listener failed: {}", e.toString());
        }
      })));
    }
    var batch = List.copyOf(turn.changes);
    turn.changes.clear();
    turn.afterCommit.clear();
    turn.events.clear();
    if (batch.isEmpty() && uncommitted != null) {
      uncommitted.addAll(actions);
      return;
    }
    if (batch.isEmpty()) {
      actions.forEach(Runnable::run);
      if (!turn.changes.isEmpty() || !turn.afterCommit.isEmpty()) {
        flush();
      }
      return;
    }
    uncommitted = actions;
    writer.submit(new StoreWriter.Batch(batch,
        () -> mailbox.add(new Message.Committed(actions)),
        e -> mailbox.add(new Message.StoreFailed(e))));
  }

  private void publishStats() {
    var byCluster = new LinkedHashMap<String, Integer>();
    var waiting = new LinkedHashMap<String, Integer>();
    turn.clusters.all().values().forEach(c -> {
      byCluster.put(c.name, c.live.size());
      waiting.put(c.name, c.queue.size() + c.toSubmit.size());
    });
    stats = new Stats(turn.jobs.size(), byCluster, stats.turns() + 1, waiting);
  }

  static String newId() {
    var chars = new char[12];
    for (int i = 0; i < chars.length; i++) {
      chars[i] = ID_CHARS[RANDOM.nextInt(ID_CHARS.length)];
    }
    return "jy-" + new String(chars);
  }
}
