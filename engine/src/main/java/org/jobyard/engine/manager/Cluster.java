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
import org.jobyard.api.Capability;
import org.jobyard.api.Transport;

/**
 * One configured cluster: its backend, and the one worker thread that calls it (the SPI promises
 * a backend one caller at a time). The scheduling fields are owned by the job manager's thread.
 */
public final class Cluster implements AutoCloseable {
  final String name;
  final String backendName;
  final Backend backend;
  final Transport transport;
  final Set<Capability> capabilities;
  final int limit;
  final Duration pollInterval;
  private final ExecutorService worker;

  // owned by the manager's thread
  final Deque<Job> queue = new ArrayDeque<>();
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
  long nextPollAt;
  long unavailableUntil;
  /** Lookups in a row that the batch system did not answer: their back-off doubles. */
  int lookupFailures;
  volatile String lastError;
  volatile long polls;
  volatile long submitCalls;

  public Cluster(String name, String backendName, Backend backend, Transport transport,
      int maxJobs, Duration pollInterval) {
    this.name = requireNonNull(name, "name is null");
    this.backendName = requireNonNull(backendName, "backendName is null");
    this.backend = requireNonNull(backend, "backend is null");
    this.transport = requireNonNull(transport, "transport is null");
    this.capabilities = Set.copyOf(backend.capabilities());
    this.limit = maxJobs > 0 ? maxJobs : backend.slots().orElse(100_000);
    this.pollInterval = requireNonNull(pollInterval, "pollInterval is null");
    this.worker = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon()
        .name("cluster-" + name).factory());
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

  void execute(Runnable work) {
    worker.execute(() -> {
      org.slf4j.MDC.put("cluster", name);
      try {
        work.run();
      } finally {
        org.slf4j.MDC.remove("cluster");
      }
    });
  }

  /** Runs work on this cluster's worker, after the backend calls already queued. */
  public void call(Runnable work) {
    execute(work);
  }

  /** What health reports show of the cluster. */
  public record Health(String lastError, long polls, long submitCalls) {}

  public Health health() {
    return new Health(lastError, polls, submitCalls);
  }

  boolean hasRoom() {
    return live.size() < limit;
  }

  @Override
  public void close() {
    worker.shutdown();
    try {
      if (!worker.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) {
        worker.shutdownNow();
      }
    } catch (InterruptedException e) {
      worker.shutdownNow();
      Thread.currentThread().interrupt();
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
