package org.jobyard.engine.cluster;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jobyard.api.BackendException;
import org.jobyard.engine.manager.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls each backend's periodic hook ({@code Backend.maintain}) at the interval it declares. The
 * call itself runs on the cluster's control thread, behind the polls and cancels already queued
 * there, so it never overlaps them (submits and collects run on threads of their own; see {@code
 * Backend}); a hook still running when its next time comes is not queued twice. Failures become conditions users see; they never stop the cluster.
 */
public final class Maintenance implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Maintenance.class);
  private static final Duration SHORTEST = Duration.ofSeconds(1);

  private final ClusterConditions conditions;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
      Thread.ofPlatform().daemon().name("cluster-maintenance").factory());

  public Maintenance(ClusterConditions conditions) {
    this.conditions = requireNonNull(conditions, "conditions is null");
  }

  /** Starts the hooks of the clusters whose backend declares an interval; the first runs now. */
  public void start(List<Cluster> clusters) {
    for (var cluster : clusters) {
      java.util.Optional<Duration> declared;
      try {
        declared = cluster.backend().maintenanceInterval();
      } catch (RuntimeException | LinkageError e) {
        conditions.maintenanceFailed(cluster.name(), "maintenanceInterval() threw " + e);
        continue;
      }
      if (declared.isEmpty()) {
        continue;
      }
      var every = declared.get().compareTo(SHORTEST) < 0 ? SHORTEST : declared.get();
      var queued = new AtomicBoolean();
      timer.scheduleWithFixedDelay(() -> {
        if (queued.compareAndSet(false, true)) {
          cluster.call(() -> run(cluster, queued));
        }
      }, 0, every.toMillis(), TimeUnit.MILLISECONDS);
      LOG.debug("cluster {}: periodic hook every {}", cluster.name(), every);
    }
  }

  private void run(Cluster cluster, AtomicBoolean queued) {
    try {
      conditions.maintained(cluster.name(), cluster.backend().maintain());
    } catch (BackendException | RuntimeException | LinkageError e) {
      LOG.warn("cluster {}: the periodic hook failed: {}", cluster.name(), e.toString());
      conditions.maintenanceFailed(cluster.name(), String.valueOf(e.getMessage()));
    } finally {
      queued.set(false);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
