package org.jobyard.engine.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendException;
import org.jobyard.api.BackendProvider;
import org.jobyard.api.Capability;
import org.jobyard.api.Condition;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobStatus;
import org.jobyard.api.Requirement;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;

/**
 * A REST-style backend for the engine's tests (backend name {@code http-probe}): it declares
 * {@link Requirement#HTTP} only and keeps the context it was given for the test to inspect. It
 * refuses (not retryable) a job named {@code refuse...} and accepts the others with a {@code url}
 * attribute (a job named {@code gate} answers only once the test opens {@link #GATE}); a job runs
 * at its first poll (attribute update {@code started_at}) and exits 0 at
 * its second ({@code left_queue_at}). Its periodic hook answers what the test sets.
 */
public final class HttpProbe implements Backend {
  /** The context each cluster's backend was created with, by cluster name. */
  static final Map<String, BackendContext> CONTEXTS = new ConcurrentHashMap<>();
  /** What {@link #maintain()} answers, by cluster name (absent: no conditions). */
  static final Map<String, Supplier<List<Condition>>> HOOKS = new ConcurrentHashMap<>();
  /** The threads that called the backend, by cluster, as "method thread". */
  static final Map<String, List<String>> CALLS = new ConcurrentHashMap<>();
  /** The sizes of the submit calls, by cluster. */
  static final Map<String, List<Integer>> SUBMITS = new ConcurrentHashMap<>();
  /** A submit that holds a job named {@code gate} waits for this before it answers. */
  static final java.util.concurrent.CountDownLatch GATE = new java.util.concurrent.CountDownLatch(1);
  /** The attributes of each job as the polls were given them, by job id. */
  static final Map<String, List<Map<String, String>>> POLLED = new ConcurrentHashMap<>();

  private final BackendContext context;

  HttpProbe(BackendContext context) {
    this.context = context;
  }

  /** Registered in META-INF/services so engines in tests find it on the class path. */
  public static final class Provider implements BackendProvider {
    @Override
    public String name() {
      return "http-probe";
    }

    @Override
    public Set<Requirement> requirements() {
      return Set.of(Requirement.HTTP);
    }

    @Override
    public Backend create(BackendContext context) {
      CONTEXTS.put(context.cluster(), context);
      return new HttpProbe(context);
    }
  }

  private void called(String method) {
    CALLS.computeIfAbsent(context.cluster(), c -> new CopyOnWriteArrayList<>())
        .add(method + " " + Thread.currentThread().getName());
  }

  @Override
  public Set<Capability> capabilities() {
    return Set.of(Capability.BULK_SUBMIT);
  }

  @Override
  public Optional<Duration> maintenanceInterval() {
    return Optional.of(Duration.ofSeconds(1));
  }

  @Override
  public List<Condition> maintain() {
    called("maintain");
    return HOOKS.getOrDefault(context.cluster(), List::of).get();
  }

  @Override
  public List<SubmitOutcome> submit(List<SubmitRequest> jobs) {
    called("submit");
    SUBMITS.computeIfAbsent(context.cluster(), c -> new CopyOnWriteArrayList<>())
        .add(jobs.size());
    if (jobs.stream().anyMatch(r -> r.spec().name().equals("gate"))) {
      try {
        GATE.await(60, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    var out = new ArrayList<SubmitOutcome>();
    for (var r : jobs) {
      out.add(r.spec().name().startsWith("refuse")
          ? new SubmitOutcome.Rejected(r.jobId(), BackendException.rejected("the CE refuses "
              + r.spec().name() + ": no such queue"))
          : new SubmitOutcome.Accepted(new JobRef(r.jobId(), "probe-" + r.tag(),
              Map.of("url", "https://ce.example.org/jobs/" + r.tag()))));
    }
    return out;
  }

  @Override
  public Map<String, JobStatus> poll(List<JobRef> jobs) {
    called("poll");
    var out = new java.util.HashMap<String, JobStatus>();
    for (var j : jobs) {
      var seen = POLLED.computeIfAbsent(j.jobId(), id -> new CopyOnWriteArrayList<>());
      seen.add(j.attributes());
      out.put(j.jobId(), seen.size() == 1
          ? new JobStatus.Running("INLRMS:R", Map.of("started_at", "poll-1"))
          : new JobStatus.Exited(0, "FINISHED", null, Map.of("left_queue_at", "poll-2",
              "url", j.attribute("url") + "/done")));
    }
    return out;
  }

  @Override
  public void cancel(List<JobRef> jobs) {}

  @Override
  public Map<String, JobRef> lookup(List<SubmitRequest> attempts) throws BackendException {
    return Map.of();
  }
}
