package org.jobyard.api;

/**
 * The cluster (its scheduler, its host, the connection to it) did not answer. Always retryable;
 * jobs on it keep their state until it answers again.
 */
public class ClusterUnavailableException extends BackendException {
  public ClusterUnavailableException(String message, Throwable cause) {
    super(message, true, cause);
  }
}
