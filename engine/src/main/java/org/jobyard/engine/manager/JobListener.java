package org.jobyard.engine.manager;

/** Receives {@link JobEvent}s. Called on the manager's thread: must return at once. */
@FunctionalInterface
public interface JobListener {
  void changed(JobEvent event);
}
