package org.jobyard.api;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What the engine gives a backend for one cluster.
 *
 * @param cluster the cluster's name in the configuration
 * @param settings the cluster's settings (everything but {@code backend} and {@code transport})
 * @param transport how to run commands and move files on the cluster's submit host; absent
 *     ({@code null}) for a cluster with {@code transport: none}, or whose backend does not
 *     require one and names none: use {@link #optionalTransport()} when it may be absent
 * @param workDir a directory on the engine's machine reserved for this cluster (sandboxes, caches)
 * @param events how the backend tells the engine that a poll would find news
 * @param http the HTTPS client for the cluster, present when the provider declares {@link
 *     Requirement#HTTP}; {@code null} otherwise
 * @param secrets resolves the cluster's secret settings ({@code file:} and {@code env:} references)
 */
public record BackendContext(String cluster, Settings settings, Transport transport, Path workDir,
    Events events, Http http, Secrets secrets) {

  public BackendContext {
    Objects.requireNonNull(cluster, "cluster is null");
    Objects.requireNonNull(settings, "settings is null");
    Objects.requireNonNull(workDir, "workDir is null");
    Objects.requireNonNull(events, "events is null");
    Objects.requireNonNull(secrets, "secrets is null");
  }

  /** A context for a command-line backend: a transport, no HTTP client, no secrets. */
  public BackendContext(String cluster, Settings settings, Transport transport, Path workDir,
      Events events) {
    this(cluster, settings, Objects.requireNonNull(transport, "transport is null"), workDir,
        events, null, Secrets.NONE);
  }

  /**
   * The cluster's transport. Throws {@link IllegalStateException} naming the cluster when it has
   * none: a provider whose backend runs commands declares {@link Requirement#TRANSPORT} (the
   * default), and the engine then refuses such a cluster at start.
   */
  @Override
  public Transport transport() {
    if (transport == null) {
      throw new IllegalStateException("cluster '" + cluster + "' has no transport (transport: "
          + "none, or its backend does not require one); a backend that runs commands must "
          + "declare Requirement.TRANSPORT");
    }
    return transport;
  }

  /** The cluster's transport, or empty when it has none. */
  public Optional<Transport> optionalTransport() {
    return Optional.ofNullable(transport);
  }

  /**
   * The cluster's HTTPS client. Throws {@link IllegalStateException} naming the cluster unless the
   * provider declares {@link Requirement#HTTP}.
   */
  @Override
  public Http http() {
    if (http == null) {
      throw new IllegalStateException("cluster '" + cluster + "' has no HTTP client: its "
          + "backend provider must declare Requirement.HTTP in requirements()");
    }
    return http;
  }

  /** Callbacks into the engine. Safe to call from any thread, never blocks. */
  public interface Events {
    /**
     * The backend learned that some jobs changed (a local process exited, say); the engine polls
     * the cluster soon instead of waiting for the next tick. Calls are coalesced.
     */
    void pollSoon();

    /**
     * A credential of the cluster expires at the given time (a proxy, a token, a delegation on
     * the CE). The latest report per {@link CredentialExpiry#name()} is shown to users, as a
     * warning when it is near or past; report again after renewing it.
     */
    default void credentialExpires(CredentialExpiry expiry) {}

    Events NONE = () -> {};
  }
}
