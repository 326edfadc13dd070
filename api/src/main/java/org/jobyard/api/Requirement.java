package org.jobyard.api;

/**
 * What a backend needs the engine to give each of its clusters, declared by {@link
 * BackendProvider#requirements()} so that a cluster lacking it is refused at start, naming the
 * cluster, instead of failing at its first job.
 */
public enum Requirement {
  /**
   * A {@link Transport} to run commands on the cluster's submit host (a command-line batch
   * system). A cluster configured with {@code transport: none} is refused.
   */
  TRANSPORT,
  /**
   * An HTTPS client built from the cluster's TLS settings ({@link BackendContext#http()}), for a
   * batch system reached over a REST interface. Such a backend gets no transport unless the
   * cluster's configuration names one.
   */
  HTTP
}
