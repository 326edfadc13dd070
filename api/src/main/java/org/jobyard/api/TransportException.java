package org.jobyard.api;

/**
 * The transport could not run a command or move a file: connection refused or lost, timeout,
 * host key refused. Retryable unless the cause is a configuration error (a refused host key).
 */
public class TransportException extends BackendException {
  public TransportException(String message, boolean retryable, Throwable cause) {
    super(message, retryable, cause);
  }

  public TransportException(String message, boolean retryable) {
    super(message, retryable);
  }
}
