package org.jobyard.engine.store;

/** The job store failed; the engine cannot go on safely without it. */
public class StoreException extends RuntimeException {
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
