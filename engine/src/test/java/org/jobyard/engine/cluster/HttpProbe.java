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
 * {@link Requirement#HTTP} only, keeps the context it was given for the test to inspect, runs
 * every job to exit 0 at its first poll, and answers its periodic hook with what the test sets.
 */
public final class HttpProbe implements Backend {
  /** The context each cluster's backend was created with, by cluster name. */
  static final Map<String, BackendContext> CONTEXTS = new ConcurrentHashMap<>();
  /** What {@link #maintain()} answers, by cluster name (absent: no conditions). */
  static final Map<String, Supplier<List<Condition>>> HOOKS = new ConcurrentHashMap<>();
  /** The threads that called the backend, by cluster, as "method thread". */
  static final Map<String, List<String>> CALLS = new ConcurrentHashMap<>();

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
    var out = new ArrayList<SubmitOutcome>();
    for (var r : jobs) {
      out.add(new SubmitOutcome.Accepted(new JobRef(r.jobId(), "probe-" + r.tag(), Map.of())));
    }
    return out;
  }

  @Override
  public Map<String, JobStatus> poll(List<JobRef> jobs) {
    called("poll");
    var out = new java.util.HashMap<String, JobStatus>();
    jobs.forEach(j -> out.put(j.jobId(), new JobStatus.Exited(0, "FINISHED", null)));
    return out;
  }

  @Override
  public void cancel(List<JobRef> jobs) {}

  @Override
  public Map<String, JobRef> lookup(List<SubmitRequest> attempts) throws BackendException {
    return Map.of();
  }
}
