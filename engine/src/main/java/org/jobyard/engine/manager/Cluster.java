package org.jobyard.engine.manager;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendException;
import org.jobyard.api.Capability;
import org.jobyard.api.Transport;
import org.jobyard.engine.config.ClusterConfig;
import org.jobyard.engine.fairshare.FairQueue;
import org.jobyard.engine.fairshare.Shares;

/**
 * One configured cluster: its backend, and the three threads that call it. The control thread
 * polls, looks up, cancels, holds, releases, cleans and runs the maintenance hook; the staging
 * thread submits (uploading the jobs' inputs); the collecting thread collects (bringing their
 * outputs home). So a long upload or download never delays a poll, a cancel, or the end of
 * another job. Each thread makes one call at a time, in the order asked, as the SPI promises
 * ({@code Backend}'s threads). The scheduling fields are owned by the job manager's thread.
 */
public final class Cluster implements AutoCloseable {
  final String name;
  final String backendName;
  final Backend backend;
  final Transport transport;
  final Set<Capability> capabilities;
  // the engine's own settings, replaced whole by a reload (see reconfigure)
  volatile int limit;
  volatile Duration pollInterval;
  volatile ClusterConfig.Policy policy;
  /** Paces submissions to {@code submit_rate}; used by the manager's thread. */
  volatile SubmitPace pace;
  private final ExecutorService worker;
  /** The calls that move files, off the control thread (see {@link Call#lane}). */
  private final ExecutorService staging;
  private final ExecutorService collecting;

  // owned by the manager's thread
  /** Jobs waiting for room here, released in fair-share order (see {@link FairQueue}). */
  final FairQueue<Job> queue = new FairQueue<>(Job.FAIR_KEYS);
  final Set<String> live = new LinkedHashSet<>();
  final Deque<Job> toSubmit = new ArrayDeque<>();
  /** Jobs whose submission outcome is unknown: looked up by tag before anything else. */
  final Set<String> needLookup = new LinkedHashSet<>();
  /** Jobs being cancelled, watched so that a cancel that did not take is sent again. */
  final Set<String> cancelling = new LinkedHashSet<>();
  boolean pollInFlight;
  boolean pollWanted;
  boolean pollDueScheduled;
  boolean submitInFlight;
  /** A wake-up for the next paced submission is scheduled. */
  boolean paceWakeScheduled;
  long nextPollAt;
  long unavailableUntil;
  /** Calls in a row the cluster refused or did not answer: the back-off doubles with each. */
  int failures;
  /** Outbox entries (cancels of abandoned attempts, cleanups) waiting for the cluster. */
  final Set<Long> outbox = new LinkedHashSet<>();
  /** Jobs whose lost clock ran out: looked up by tag once before they are declared lost. */
  final Set<String> lostChecks = new LinkedHashSet<>();
  volatile String lastError;
  volatile long polls;
  volatile long submitCalls;
  /** Collect tasks handed out (one per poll that saw jobs end, however many): a metric. */
  volatile long collectTasks;

  /** Collect tasks handed to the cluster's workers: one per poll that saw jobs end. */
  public long collectTasks() {
    return collectTasks;
  }

  public Cluster(String name, String backendName, Backend backend, Transport transport,
      int maxJobs, Duration pollInterval) {
    this(name, backendName, backend, transport, maxJobs, pollInterval,
        ClusterConfig.Policy.DEFAULT);
  }

  public Cluster(String name, String backendName, Backend backend, Transport transport,
      int maxJobs, Duration pollInterval, ClusterConfig.Policy policy) {
    this.name = requireNonNull(name, "name is null");
    this.backendName = requireNonNull(backendName, "backendName is null");
    this.backend = requireNonNull(backend, "backend is null");
    this.transport = requireNonNull(transport, "transport is null");
    this.capabilities = Set.copyOf(backend.capabilities());
    this.limit = maxJobs > 0 ? maxJobs : backend.slots().orElse(100_000);
    this.pollInterval = requireNonNull(pollInterval, "pollInterval is null");
    this.policy = requireNonNull(policy, "policy is null");
    this.pace = new SubmitPace(policy.submitRate());
    this.worker = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon()
        .name("cluster-" + name).factory());
    this.staging = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon()
        .name("cluster-" + name + "-staging").factory());
    this.collecting = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon()
        .name("cluster-" + name + "-collecting").factory());
  }

  public String name() {
    return name;
  }

  public String backendName() {
    return backendName;
  }

  public Transport transport() {
    return transport;
  }

  public Backend backend() {
    return backend;
  }

  /**
   * ops (reload): the engine's own settings of the cluster (max_jobs, poll_interval and the
   * policy) take effect from the manager's next turn; the backend and its jobs are untouched.
   */
  public void reconfigure(int maxJobs, Duration newPollInterval, ClusterConfig.Policy newPolicy) {
    requireNonNull(newPollInterval, "newPollInterval is null");
    requireNonNull(newPolicy, "newPolicy is null");
    if (newPolicy.submitRate() != policy.submitRate()) {
      pace = new SubmitPace(newPolicy.submitRate());
    }
    limit = maxJobs > 0 ? maxJobs : backend.slots().orElse(100_000);
    pollInterval = newPollInterval;
    policy = newPolicy;
  }

  /** The most live jobs the engine keeps here now. */
  public int limit() {
    return limit;
  }

  public ClusterConfig.Policy policy() {
    return policy;
  }

  /** The users' shares of this cluster from the next job released on (start, reload). */
  public void fairShares(Shares shares) {
    queue.shares(shares);
  }

  void execute(Runnable work) {
    execute(worker, work);
  }

  private void execute(ExecutorService thread, Runnable work) {
    thread.execute(() -> {
      org.slf4j.MDC.put("cluster", name);
      try {
        work.run();
      } finally {
        org.slf4j.MDC.remove("cluster");
      }
    });
  }

  /** What the engine asks of a backend; names the call in errors and decides their class. */
  enum Call {
    SUBMIT, POLL, LOOKUP, CANCEL, HOLD, RELEASE, COLLECT, CLEAN, RESUME;

    String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * The thread the call runs on: submits and collects, which may move many large files, each
     * on a thread of its own next to the control thread. The manager keeps the order that
     * matters for one job itself: a job is cancelled, held or released only once its submit has
     * returned its native id, not polled while it is collected, and cleaned only once its
     * collect has returned.
     */
    Lane lane() {
      return switch (this) {
        case SUBMIT -> Lane.STAGING;
        case COLLECT -> Lane.COLLECTING;
        default -> Lane.CONTROL;
      };
    }
  }

  /** A cluster's threads; see {@link Call#lane}. */
  enum Lane {
    CONTROL, STAGING, COLLECTING
  }

  /** One backend call. */
  interface BackendWork<T> {
    T run(Backend backend) throws BackendException;
  }

  /**
   * The one way the manager calls the backend: on the cluster's thread for the call ({@link
   * Call#lane}; one call at a time on each, as the SPI promises), every failure a {@link
   * BackendException}, then {@code report} with the result or the failure (from that thread; it
   * posts to the manager's mailbox).
   *
   * <p>A {@code RuntimeException} is a plugin bug, classified here once: retryable for every call
   * (unknown is not dead: a submit may have reached the batch system, and is looked up; a poll,
   * cancel or cleanup is tried again), except {@code collect}, whose bug would strike again: the
   * job fails with it.
   */
  <T> void dispatch(Call call, BackendWork<T> work,
      java.util.function.BiConsumer<T, BackendException> report) {
    if (call == Call.COLLECT) {
      collectTasks++; // only the manager's thread dispatches
    }
    execute(switch (call.lane()) {
      case STAGING -> staging;
      case COLLECTING -> collecting;
      case CONTROL -> worker;
    }, () -> {
      T result = null;
      BackendException error = null;
      try {
        result = work.run(backend);
      } catch (BackendException e) {
        error = e;
      } catch (RuntimeException e) {
        error = unexpected(call, e);
      }
      report.accept(result, error);
    });
  }

  /** A plugin's {@code RuntimeException} (a bug) as the call's failure; see {@link #dispatch}. */
  BackendException unexpected(Call call, RuntimeException e) {
    return new BackendException("backend '" + backendName + "' of cluster '" + name + "': "
        + call.label() + " failed unexpectedly: " + e, call != Call.COLLECT, e);
  }

  /** Runs work on this cluster's control thread, after the calls already queued there. */
  public void call(Runnable work) {
    execute(work);
  }

  /** What health reports show of the cluster. */
  public record Health(String lastError, long polls, long submitCalls) {}

  public Health health() {
    return new Health(lastError, polls, submitCalls);
  }

  /** Forgets the scheduling state: the manager's loop restarts from the store. */
  void reset() {
    queue.clear();
    live.clear();
    toSubmit.clear();
    needLookup.clear();
    cancelling.clear();
    pollInFlight = false;
    submitInFlight = false;
    pollWanted = false;
    pollDueScheduled = false;
    failures = 0;
    outbox.clear();
    lostChecks.clear();
  }

  /** The job's submission outcome is unknown: it is looked up by tag before anything else. */
  void lookUp(Job job) {
    job.lookupNeeded = true;
    needLookup.add(job.id);
  }

  /** Room for one more job: under {@code max_jobs}, and under {@code max_pending} if set. */
  boolean hasRoom(int pending) {
    return live.size() < limit && (policy.maxPending() == 0 || pending < policy.maxPending());
  }

  /** The cluster refused or did not answer: wait longer each time in a row before the next call. */
  void failed(Duration base, long nowMillis) {
    failures++;
    unavailableUntil = Math.max(unavailableUntil,
        nowMillis + Backoff.delay(base, failures, Backoff.RANDOM).toMillis());
  }

  /** The cluster answered: the next failure starts the back-off from its base again. */
  void answered() {
    failures = 0;
  }

  @Override
  public void close() {
    for (var thread : java.util.List.of(staging, collecting, worker)) {
      thread.shutdown();
      try {
        if (!thread.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) {
          thread.shutdownNow();
        }
      } catch (InterruptedException e) {
        thread.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
    try {
      backend.close();
    } catch (RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(Cluster.class).warn("closing cluster {}: {}", name,
          e.toString());
    }
    if (transport instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception e) {
        org.slf4j.LoggerFactory.getLogger(Cluster.class).warn("closing transport of {}: {}",
            name, e.toString());
      }
    }
  }
}
