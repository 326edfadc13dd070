package org.jobyard.engine.manager;

/** A request the manager refused as it stands (unknown cluster, unknown job); nothing changed. */
public class RejectedException extends IllegalArgumentException {
  public RejectedException(String message) {
    super(message);
  }
}
