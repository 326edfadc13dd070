package org.jobyard.engine.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * One named cluster: which backend runs it, how to reach its submit host, and the backend's own
 * settings (everything else in the cluster's block).
 *
 * @param pollInterval overrides the engine's poll interval for this cluster, or {@code null}
 * @param maxJobs the most live jobs the engine keeps on it, or 0 for the backend's own limit
 * @param users the API users granted this cluster besides the engine's owner ({@code *}: all)
 */
public record ClusterConfig(String name, String backend, Map<String, Object> transport,
    Map<String, String> settings, Duration pollInterval, int maxJobs, Set<String> users) {

  public ClusterConfig(String name, String backend, Map<String, Object> transport,
      Map<String, String> settings, Duration pollInterval, int maxJobs) {
    this(name, backend, transport, settings, pollInterval, maxJobs, Set.of());
  }

  public ClusterConfig {
    requireNonNull(name, "name is null");
    requireNonNull(backend, "backend is null");
    transport = Map.copyOf(transport);
    settings = Map.copyOf(settings);
    users = Set.copyOf(users);
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
