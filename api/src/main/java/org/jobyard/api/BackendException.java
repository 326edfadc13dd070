package org.jobyard.api;

/**
 * A backend operation failed. Says whether trying again can help: a timeout or an unreachable
 * scheduler is retryable, a job the batch system refuses is not.
 */
public class BackendException extends Exception {
  private final boolean retryable;

  public BackendException(String message, boolean retryable) {
    super(message);
    this.retryable = retryable;
  }

  public BackendException(String message, boolean retryable, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  /** Whether the same call may succeed later without anyone changing anything. */
  public boolean isRetryable() {
    return retryable;
  }

  /** The batch system or its host did not answer; nothing about the jobs is known. Retryable. */
  public static BackendException unavailable(String message, Throwable cause) {
    return new ClusterUnavailableException(message, cause);
  }

  /** The batch system refuses this job as specified. Not retryable on this cluster. */
  public static BackendException rejected(String message) {
    return new BackendException(message, false);
  }
}
