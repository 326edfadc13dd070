package org.jobyard.api;

import java.nio.file.Path;

/**
 * What the engine gives a backend for one cluster.
 *
 * @param cluster the cluster's name in the configuration
 * @param settings the cluster's settings (everything but {@code backend} and {@code transport})
 * @param transport how to run commands and move files on the cluster's submit host
 * @param workDir a directory on the engine's machine reserved for this cluster (sandboxes, caches)
 * @param events how the backend tells the engine that a poll would find news
 */
public record BackendContext(
    String cluster, Settings settings, Transport transport, Path workDir, Events events) {

  public BackendContext {
    java.util.Objects.requireNonNull(cluster, "cluster is null");
    java.util.Objects.requireNonNull(settings, "settings is null");
    java.util.Objects.requireNonNull(transport, "transport is null");
    java.util.Objects.requireNonNull(workDir, "workDir is null");
    java.util.Objects.requireNonNull(events, "events is null");
  }

  /** Callbacks into the engine. Safe to call from any thread, never blocks. */
  public interface Events {
    /**
     * The backend learned that some jobs changed (a local process exited, say); the engine polls
     * the cluster soon instead of waiting for the next tick. Calls are coalesced.
     */
    void pollSoon();

    Events NONE = () -> {};
  }
}
