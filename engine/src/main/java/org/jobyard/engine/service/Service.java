package org.jobyard.engine.service;

/**
 * A long-running loop of the engine (COBalD's model): {@link #run()} blocks until {@link #stop()}
 * is called or it fails. A run that throws is restarted by the {@link ServiceRuntime} with
 * back-off, and one that keeps failing stops the engine in order.
 */
public interface Service {
  String name();

  void run() throws Exception;

  /** Asks {@link #run()} to return; may block until the service has finished its work. */
  void stop();
}
