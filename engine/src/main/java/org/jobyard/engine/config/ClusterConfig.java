package org.jobyard.engine.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One named cluster: which backend runs it, how to reach its submit host, and the backend's own
 * settings (everything else in the cluster's block).
 *
 * @param pollInterval overrides the engine's poll interval for this cluster, or {@code null}
 * @param maxJobs the most live jobs the engine keeps on it, or 0 for the backend's own limit
 * @param users the API users granted this cluster besides the engine's owner ({@code *}: all)
 * @param policy how the engine paces and watches the cluster's jobs
 */
public record ClusterConfig(String name, String backend, Map<String, Object> transport,
    Map<String, String> settings, Duration pollInterval, int maxJobs, Set<String> users,
    Policy policy) {

  public ClusterConfig(String name, String backend, Map<String, Object> transport,
      Map<String, String> settings, Duration pollInterval, int maxJobs) {
    this(name, backend, transport, settings, pollInterval, maxJobs, Set.of(), Policy.DEFAULT);
  }

  public ClusterConfig(String name, String backend, Map<String, Object> transport,
      Map<String, String> settings, Duration pollInterval, int maxJobs, Set<String> users) {
    this(name, backend, transport, settings, pollInterval, maxJobs, users, Policy.DEFAULT);
  }

  /**
   * The engine's own per-cluster settings (the backend never sees them).
   *
   * @param heldTimeout how long a job held by the batch system (not by {@code jobyard pause}) may
   *     stay held before its attempt fails with the hold reason; {@code null}: forever
   * @param submitRate the most jobs per second handed to the cluster; 0: no limit
   * @param maxPending the most jobs waiting in the batch system's queue (submitted, not yet
   *     running); 0: no limit besides {@code max_jobs}
   * @param keepSandbox keep a finished job's folder on the cluster (for debugging) instead of
   *     cleaning it once its outputs are collected
   * @param downtime scheduled windows in which the cluster takes no new submissions
   */
  public record Policy(Duration heldTimeout, double submitRate, int maxPending,
      boolean keepSandbox, List<Downtime> downtime) {
    public static final Policy DEFAULT = new Policy(null, 0, 0, false);

    /** A policy with no scheduled downtime. */
    public Policy(Duration heldTimeout, double submitRate, int maxPending, boolean keepSandbox) {
      this(heldTimeout, submitRate, maxPending, keepSandbox, List.of());
    }

    public Policy {
      if (submitRate < 0 || Double.isNaN(submitRate) || Double.isInfinite(submitRate)) {
        throw new IllegalArgumentException("submitRate must be 0 or more: " + submitRate);
      }
      if (maxPending < 0) {
        throw new IllegalArgumentException("maxPending must be 0 or more: " + maxPending);
      }
      downtime = downtime == null ? List.of() : List.copyOf(downtime);
    }
  }

  /** A scheduled downtime: from {@code from} (inclusive) to {@code to} (exclusive). */
  public record Downtime(Instant from, Instant to) {
    public Downtime {
      requireNonNull(from, "from is null");
      requireNonNull(to, "to is null");
      if (!to.isAfter(from)) {
        throw new IllegalArgumentException("a downtime ends after it starts: from " + from
            + " to " + to);
      }
    }

    public boolean covers(Instant when) {
      return !when.isBefore(from) && when.isBefore(to);
    }
  }

  public ClusterConfig {
    requireNonNull(name, "name is null");
    requireNonNull(backend, "backend is null");
    transport = Map.copyOf(transport);
    settings = Map.copyOf(settings);
    users = Set.copyOf(users);
    requireNonNull(policy, "policy is null");
  }

  /** Whether the configuration names a transport for the cluster (else its backend decides). */
  public boolean transportGiven() {
    return transport.containsKey("type");
  }

  /** {@code local}, {@code ssh} or {@code none}; {@code local} when not given. */
  public String transportType() {
    return String.valueOf(transport.getOrDefault("type", "local"));
  }
}
