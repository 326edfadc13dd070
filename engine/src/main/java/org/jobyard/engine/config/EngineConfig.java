package org.jobyard.engine.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jobyard.engine.fairshare.Shares;

/**
 * The engine's settings, read from {@code conf/jobyard.yaml} (see {@link ConfigLoader}).
 *
 * @param home the installation folder; relative paths are resolved against it
 * @param database where jobs are stored
 * @param api where the REST API listens
 * @param engine tuning of the job manager
 * @param clusters the named clusters, in configuration order
 * @param defaultClusters the clusters a job without {@code clusters} is tried on, in order
 * @param metrics who may scrape {@code /metrics}
 * @param state the folder of the store, logs, run files and job scripts (see {@link Layout})
 * @param fairShare each user's share of the clusters, when several have jobs queued
 */
public record EngineConfig(
    Path home,
    Database database,
    Api api,
    Tuning engine,
    Map<String, ClusterConfig> clusters,
    List<String> defaultClusters,
    Metrics metrics,
    Path state,
    Shares fairShare) {

  public EngineConfig {
    requireNonNull(home, "home is null");
    requireNonNull(database, "database is null");
    requireNonNull(api, "api is null");
    requireNonNull(engine, "engine is null");
    clusters = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(clusters));
    defaultClusters = List.copyOf(defaultClusters);
    requireNonNull(metrics, "metrics is null");
    state = state == null ? home.resolve("var") : state;
    fairShare = fairShare == null ? Shares.EQUAL : fairShare;
  }

  /** Every user with the same share. */
  public EngineConfig(Path home, Database database, Api api, Tuning engine,
      Map<String, ClusterConfig> clusters, List<String> defaultClusters, Metrics metrics,
      Path state) {
    this(home, database, api, engine, clusters, defaultClusters, metrics, state, null);
  }

  /** With the state in {@code home/var}, as an unpacked tarball keeps it. */
  public EngineConfig(Path home, Database database, Api api, Tuning engine,
      Map<String, ClusterConfig> clusters, List<String> defaultClusters, Metrics metrics) {
    this(home, database, api, engine, clusters, defaultClusters, metrics, null);
  }

  public EngineConfig(Path home, Database database, Api api, Tuning engine,
      Map<String, ClusterConfig> clusters, List<String> defaultClusters) {
    this(home, database, api, engine, clusters, defaultClusters, Metrics.DEFAULT, null);
  }

  /** The state folder: {@code var/} of the home, or the user's own (see {@link Layout}). */
  public Path varDir() {
    return state;
  }

  /**
   * @param url JDBC URL; H2 file under {@code var/db} by default, PostgreSQL for production
   */
  /**
   * @param lease how long an engine that shares a PostgreSQL store with others keeps its jobs
   *     without renewing its lease (its heartbeat renews it every second); after that, another
   *     engine takes them over
   */
  public record Database(String url, String user, String password, int poolSize,
      java.time.Duration lease) {
    public static final java.time.Duration DEFAULT_LEASE = java.time.Duration.ofSeconds(15);

    public Database(String url, String user, String password, int poolSize) {
      this(url, user, password, poolSize, DEFAULT_LEASE);
    }

    /** Whether several engines may share this store (PostgreSQL); H2 has one engine only. */
    public boolean shared() {
      return url.startsWith("jdbc:postgresql:");
    }
  }

  /**
   * @param listen host:port of the REST API (port 0: a free one)
   * @param tokens who may call the API, besides the local user, who gets a token at every start
   */
  public record Api(String listen, List<Token> tokens, Tls tls, boolean insecure) {
    public Api {
      requireNonNull(listen, "listen is null");
      tokens = List.copyOf(tokens);
    }

    public Api(String listen, List<Token> tokens) {
      this(listen, tokens, null, false);
    }

    /** The API's certificate chain and private key, PEM files (see docs/security.md). */
    public record Tls(Path certificate, Path key) {
      public Tls {
        requireNonNull(certificate, "certificate is null");
        requireNonNull(key, "key is null");
      }
    }

    /**
     * A bearer token and the user it stands for; an admin sees and acts on every job.
     *
     * @param account the OS account the user's local jobs run as, or null (docs/security.md)
     * @param workspace the folder the user's paths are confined to, or null: the account's home
     */
    public record Token(String user, String token, boolean admin, String account,
        Path workspace) {
      public Token {
        requireNonNull(user, "user is null");
        requireNonNull(token, "token is null");
      }

      public Token(String user, String token, boolean admin) {
        this(user, token, admin, null, null);
      }

      @Override
      public String toString() {
        return "Token[user=" + user + ", admin=" + admin + "]"; // never the secret
      }
    }
  }

  /**
   * @param pollInterval how often each cluster is polled when it has live jobs
   * @param submitBatch the most jobs handed to one bulk submit call
   * @param lostAfter how long a job may stay unknown to its backend before it counts as lost
   * @param retryBackoff wait before a cluster that did not answer is tried again
   */
  public record Tuning(Duration pollInterval, int submitBatch, Duration lostAfter,
      Duration retryBackoff) {
    public static final Tuning DEFAULT =
        new Tuning(Duration.ofSeconds(5), 200, Duration.ofMinutes(10), Duration.ofSeconds(5));
  }

  /**
   * @param allow the addresses (CIDR ranges such as {@code 10.0.0.0/8}, or single addresses) that
   *     may read {@code /metrics} without a token; loopback only by default
   */
  public record Metrics(List<String> allow) {
    public static final Metrics DEFAULT = new Metrics(List.of("127.0.0.0/8", "::1/128"));

    public Metrics {
      allow = List.copyOf(allow);
    }
  }
}
