package org.jobyard.engine.manager;

/** The job manager is stopping or stopped; the request was not carried out. */
public class ManagerStoppedException extends IllegalStateException {
  public ManagerStoppedException(String message) {
    super(message);
  }
}
