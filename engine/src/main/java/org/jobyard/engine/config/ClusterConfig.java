package org.jobyard.engine.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Map;

/**
 * One named cluster: which backend runs it, how to reach its submit host, and the backend's own
 * settings (everything else in the cluster's block).
 *
 * @param pollInterval overrides the engine's poll interval for this cluster, or {@code null}
 * @param maxJobs the most live jobs the engine keeps on it, or 0 for the backend's own limit
 */
public record ClusterConfig(String name, String backend, Map<String, Object> transport,
    Map<String, String> settings, Duration pollInterval, int maxJobs) {

  public ClusterConfig {
    requireNonNull(name, "name is null");
    requireNonNull(backend, "backend is null");
    transport = Map.copyOf(transport);
    settings = Map.copyOf(settings);
  }

  public String transportType() {
    return String.valueOf(transport.getOrDefault("type", "local"));
  }
}
