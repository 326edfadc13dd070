package org.jobyard.engine.manager;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendException;
import org.jobyard.api.Capability;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;

/**
 * An in-memory batch system for testing the engine's bookkeeping (not a backend's proof): a job
 * whose executable is "ok" exits 0, "fail" exits 3, "hang" runs until cancelled, "pend" waits,
 * "crash" fails without an exit code, "reject" is refused. Shared between "engine restarts" to play a batch system that outlives the engine.
 */
final class FakeBackend implements Backend {
  final Map<String, String> jobs = new ConcurrentHashMap<>(); // tag -> executable
  final Map<String, Boolean> cancelled = new ConcurrentHashMap<>();
  final AtomicInteger submits = new AtomicInteger();
  final AtomicInteger polls = new AtomicInteger();
  final AtomicInteger submitCalls = new AtomicInteger();
  /** How many jobs each submit call carried, in order. */
  final java.util.Queue<Integer> batchSizes = new java.util.concurrent.ConcurrentLinkedQueue<>();
  final AtomicInteger lookupCalls = new AtomicInteger();
  final Map<String, AtomicInteger> cleaned = new ConcurrentHashMap<>();
  volatile boolean cleanFails;
  volatile boolean down;
  /** Cancels are accepted but do nothing, like a batch system that is slow to act on them. */
  volatile boolean ignoreCancel;
  /** Answers every submission with "not now" (a retryable rejection), polls normally. */
  volatile boolean downForSubmitOnly;
  volatile boolean failAfterSubmit;
  /** Jobs "gate" run until this opens, then exit 0: all at once, as one poll sees it. */
  volatile boolean gateOpen;
  /** What the backend declares; tests of the optional operations add to it. */
  volatile Set<Capability> capabilities = Set.of(Capability.BULK_SUBMIT);
  final AtomicInteger cancelCalls = new AtomicInteger();
  final Set<String> held = ConcurrentHashMap.newKeySet();
  final AtomicInteger releases = new AtomicInteger();
  /** Thrown by every submit call instead of an answer, when set. */
  volatile RuntimeException submitBug;
  volatile BackendException submitError;
  /** Thrown by collect, when set. */
  volatile BackendException collectError;
  final AtomicInteger collects = new AtomicInteger();
  /** Native ids the poll answers leave out, as a listing that skips a job. */
  final Set<String> omitted = ConcurrentHashMap.newKeySet();
  /** Cancels fail as if the cluster did not answer, when set. */
  volatile boolean cancelDown;
  /** Cancels that reached the batch system, by native id. */
  final Map<String, AtomicInteger> cancels = new ConcurrentHashMap<>();
  /** When each job was handed to the batch system (nanoTime), in order. */
  final java.util.Queue<Long> submittedAt = new java.util.concurrent.ConcurrentLinkedQueue<>();
  /** When set, a submit waits in its staging until this opens (a long upload). */
  volatile java.util.concurrent.CountDownLatch staging;
  /** When set, a collect waits until this opens (a long download). */
  volatile java.util.concurrent.CountDownLatch collecting;
  /** Submits (collects) running now, and the most ever seen at once. */
  final AtomicInteger submitsNow = new AtomicInteger();
  final AtomicInteger mostSubmitsAtOnce = new AtomicInteger();
  final AtomicInteger collectsNow = new AtomicInteger();
  final AtomicInteger mostCollectsAtOnce = new AtomicInteger();

  @Override
  public Set<Capability> capabilities() {
    return capabilities;
  }

  @Override
  public List<SubmitOutcome> submit(List<SubmitRequest> requests) throws BackendException {
    try (var t = running(submitsNow, mostSubmitsAtOnce)) {
      awaitOpen(staging);
      return submitNow(requests);
    }
  }

  /** Counts a call in {@code now} while it runs, and the most at once in {@code most}. */
  private static Call running(AtomicInteger now, AtomicInteger most) {
    most.accumulateAndGet(now.incrementAndGet(), Math::max);
    return now::decrementAndGet;
  }

  private interface Call extends AutoCloseable {
    @Override
    void close();
  }

  private static void awaitOpen(java.util.concurrent.CountDownLatch gate) {
    try {
      if (gate != null && !gate.await(60, java.util.concurrent.TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never opened the gate");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private List<SubmitOutcome> submitNow(List<SubmitRequest> requests) throws BackendException {
    submitCalls.incrementAndGet();
    batchSizes.add(requests.size());
    if (down) {
      throw BackendException.unavailable("fake cluster is down", null);
    }
    if (submitBug != null) {
      throw submitBug;
    }
    if (submitError != null) {
      throw submitError;
    }
    var out = new ArrayList<SubmitOutcome>();
    for (var r : requests) {
      var exe = r.spec().steps().getFirst().executable();
      if (downForSubmitOnly) {
        out.add(new SubmitOutcome.Rejected(r.jobId(),
            new BackendException("queue full, try later", true)));
        continue;
      }
      if (exe.equals("reject")) {
        out.add(new SubmitOutcome.Rejected(r.jobId(), BackendException.rejected("no such queue")));
        continue;
      }
      if (jobs.putIfAbsent(r.tag(), exe) == null) {
        submits.incrementAndGet();
        submittedAt.add(System.nanoTime());
      }
      out.add(new SubmitOutcome.Accepted(new JobRef(r.jobId(), r.tag(), Map.of("tag", r.tag()))));
    }
    if (failAfterSubmit) {
      // the batch system took them, but the answer is lost
      throw BackendException.unavailable("connection lost after submit", null);
    }
    return out;
  }

  @Override
  public Map<String, JobStatus> poll(List<JobRef> refs) throws BackendException {
    polls.incrementAndGet();
    if (down) {
      throw BackendException.unavailable("fake cluster is down", null);
    }
    var out = new HashMap<String, JobStatus>();
    var open = gateOpen;
    for (var ref : refs) {
      var exe = jobs.get(ref.nativeId());
      if (omitted.contains(ref.nativeId())) {
        continue;
      }
      if (exe == null) {
        out.put(ref.jobId(), new JobStatus.Unknown("not in listing"));
      } else if (held.contains(ref.nativeId())) {
        out.put(ref.jobId(), new JobStatus.Held("PENDING", "JobHeldUser"));
      } else if (cancelled.containsKey(ref.nativeId())) {
        out.put(ref.jobId(), new JobStatus.Cancelled("CANCELLED", null));
      } else {
        out.put(ref.jobId(), switch (exe) {
          case "ok" -> new JobStatus.Exited(0, "COMPLETED", null);
          case "fail" -> new JobStatus.Exited(3, "FAILED", null);
          case "pend" -> new JobStatus.Pending("PENDING", "requeued");
          case "gate" -> open ? new JobStatus.Exited(0, "COMPLETED", null)
              : new JobStatus.Running("RUNNING");
          case "crash" -> new JobStatus.Failed(-1, "NODE_FAIL", "the node died");
          case "oom" -> new JobStatus.Exited(137, "OUT_OF_MEMORY", "out of memory");
          case "timeout" -> new JobStatus.Failed(0, "TIMEOUT", "time limit reached");
          default -> new JobStatus.Running("RUNNING");
        });
      }
    }
    return out;
  }

  /** Resumed native ids; with {@link #resumeRefusal} set, every resume throws it instead. */
  final java.util.Queue<String> resumed = new java.util.concurrent.ConcurrentLinkedQueue<>();
  volatile BackendException resumeRefusal;

  /** A resumed job runs again and, this time, exits 0 (with Capability.RESUME declared). */
  @Override
  public void resume(List<JobRef> refs) throws BackendException {
    if (resumeRefusal != null) {
      throw resumeRefusal;
    }
    refs.forEach(r -> {
      resumed.add(r.nativeId());
      jobs.put(r.nativeId(), "ok");
    });
  }

  @Override
  public void cancel(List<JobRef> refs) throws BackendException {
    cancelCalls.incrementAndGet();
    if (cancelDown) {
      throw BackendException.unavailable("fake cluster does not answer cancels", null);
    }
    refs.forEach(r -> cancels.computeIfAbsent(r.nativeId(), k -> new AtomicInteger())
        .incrementAndGet());
    if (ignoreCancel) {
      return;
    }
    refs.forEach(r -> cancelled.put(r.nativeId(), true));
  }

  @Override
  public void hold(List<JobRef> refs) {
    refs.forEach(r -> held.add(r.nativeId()));
  }

  @Override
  public void release(List<JobRef> refs) {
    releases.incrementAndGet();
    refs.forEach(r -> held.remove(r.nativeId()));
  }

  @Override
  public java.util.Optional<String> tail(JobRef job, org.jobyard.api.LogStream stream,
      int lines) {
    return java.util.Optional.of(stream + " of " + job.nativeId() + "\n");
  }

  @Override
  public void collect(JobRef job, org.jobyard.api.JobSpec spec) throws BackendException {
    try (var t = running(collectsNow, mostCollectsAtOnce)) {
      awaitOpen(collecting);
      collects.incrementAndGet();
      if (collectError != null) {
        throw collectError;
      }
    }
  }

  @Override
  public void clean(JobRef job) throws BackendException {
    if (cleanFails) {
      throw BackendException.unavailable("cannot reach the cluster to clean up", null);
    }
    cleaned.computeIfAbsent(job.nativeId(), k -> new AtomicInteger()).incrementAndGet();
  }

  @Override
  public Map<String, JobRef> lookup(List<SubmitRequest> attempts) {
    lookupCalls.incrementAndGet();
    var out = new HashMap<String, JobRef>();
    for (var a : attempts) {
      if (jobs.containsKey(a.tag())) {
        out.put(a.jobId(), new JobRef(a.jobId(), a.tag(), Map.of("tag", a.tag())));
      }
    }
    return out;
  }
}
