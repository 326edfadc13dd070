package org.jobyard.engine.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Jdbi;
import org.jobyard.engine.config.EngineConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The connection pool, migrated to the current schema. Embedded H2 or PostgreSQL. */
public final class Database implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Database.class);
  /**
   * How long a caller waits for a connection. Short, because a store that does not answer must
   * turn into a "store unavailable" answer within a second (the API's promise), not a 30-second
   * hang (Hikari's default); the writer retries on its own with back-off.
   */
  static final long CONNECTION_TIMEOUT_MILLIS = 500;

  /** How long the first connections (opening the store, migrating it) may take. */
  static final long OPEN_TIMEOUT_MILLIS = 30_000;

  /**
   * The versions of the migrations in {@code db/migration}, in order, read from the list of that
   * folder the build writes ({@link #MIGRATION_LIST}), so a new migration cannot be left out. A
   * store whose history holds exactly these, all successful, is up to date, and Flyway is not
   * even loaded (a third of a short run's start); scanning the class path as Flyway does would
   * cost that again.
   */
  static final java.util.List<String> MIGRATIONS = migrations();
  /** Written by the engine's build (maven-antrun-plugin, see its pom): one file name a line. */
  static final String MIGRATION_LIST = "/db/migrations.txt";

  private final HikariDataSource dataSource;
  private final boolean migrated;
  private final Jdbi jdbi;
  private final String url;
  private final StoreHealth health;

  public Database(EngineConfig.Database config) {
    StoreCheck.beforeOpening(config.url(), config.user(), config.password());
    this.url = config.url();
    var url = h2Defaults(config.url());
    var hc = new HikariConfig();
    hc.setJdbcUrl(url);
    hc.setUsername(config.user());
    hc.setPassword(config.password());
    hc.setMaximumPoolSize(Math.max(2, config.poolSize()));
    hc.setPoolName("jobyard-db");
    hc.setInitializationFailTimeout(-1);
    hc.setConnectionTimeout(CONNECTION_TIMEOUT_MILLIS);
    hc.setValidationTimeout(250);
    if (url.startsWith("jdbc:postgresql:")) {
      // a server that accepts but does not answer must not hold a connection for minutes
      hc.addDataSourceProperty("connectTimeout", "5");
      hc.addDataSourceProperty("socketTimeout", "60");
    }
    this.health = new StoreHealth(redacted(config.url()), this::probe);
    try {
      this.dataSource = new HikariDataSource(hc);
      // one bound for both: a store that never answers fails after OPEN_TIMEOUT_MILLIS
      long deadline = System.nanoTime() + OPEN_TIMEOUT_MILLIS * 1_000_000;
      this.migrated = !upToDate(dataSource, deadline);
      if (migrated) {
        migrate(dataSource, deadline);
      }
    } catch (RuntimeException e) {
      throw new StoreException("cannot open the job store at " + config.url() + ": "
          + rootMessage(e) + (config.url().startsWith("jdbc:h2:file:")
              ? " (is another Jobyard engine using it? stop it, or use 'jobyard submit')"
              : ""), e);
    }
    this.jdbi = Jdbi.create(dataSource);
    LOG.debug("job store ready at {}", config.url());
  }

  /**
   * Brings the schema up to date. The first connection may take longer than a later one may wait
   * (H2 creating its file on a loaded machine, a database still starting): it is asked for again
   * until {@link #OPEN_TIMEOUT_MILLIS} have passed.
   */
  private static void migrate(HikariDataSource dataSource, long deadline) {
    while (true) {
      try {
        Flyway.configure().dataSource(dataSource).locations("classpath:db/migration")
            .load().migrate();
        return;
      } catch (RuntimeException e) {
        if (System.nanoTime() > deadline || !waitedForAConnection(e)) {
          throw e;
        }
      }
    }
  }

  /**
   * Whether Flyway's history says every migration of this build, and no other, has been applied:
   * one query. Anything else (no history yet, a failed or unknown migration, a store that does
   * not answer yet) leaves the decision, and its error messages, to Flyway.
   */
  private static boolean upToDate(javax.sql.DataSource dataSource, long deadline) {
    while (true) {
      try {
        return upToDateHistory(dataSource);
      } catch (java.sql.SQLTransientConnectionException e) {
        // the first connection may take longer than a later one may wait (as in migrate)
        if (System.nanoTime() > deadline) {
          return false;
        }
      }
    }
  }

  private static boolean upToDateHistory(javax.sql.DataSource dataSource)
      throws java.sql.SQLTransientConnectionException {
    java.sql.Connection c;
    try {
      c = dataSource.getConnection();
    } catch (java.sql.SQLTransientConnectionException e) {
      throw e;
    } catch (java.sql.SQLException e) {
      return false;
    }
    try (c; var s = c.createStatement();
         var rs = s.executeQuery("SELECT \"version\", \"success\" FROM \"flyway_schema_history\""
             + " ORDER BY \"installed_rank\"")) {
      var applied = new java.util.ArrayList<String>();
      while (rs.next()) {
        var version = rs.getString(1);
        if (!rs.getBoolean(2)) {
          return false;
        }
        if (version != null) { // rows without a version mark a schema Flyway created
          applied.add(version);
        }
      }
      return applied.equals(MIGRATIONS);
    } catch (java.sql.SQLException e) {
      return false;
    }
  }

  /**
   * The versions in the build's list of migrations, in order; none when the list is missing (a
   * class path not built by Maven), and then every open leaves the decision to Flyway.
   */
  private static java.util.List<String> migrations() {
    try (var in = Database.class.getResourceAsStream(MIGRATION_LIST)) {
      if (in == null) {
        LOG.warn("{} is not on the class path (the engine's build writes it): the job store's "
            + "schema is checked by Flyway at every start, which is slower", MIGRATION_LIST);
        return java.util.List.of();
      }
      return versions(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
          .lines().map(String::strip).filter(n -> !n.isEmpty()).toList());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot read " + MIGRATION_LIST, e);
    }
  }

  /** Flyway's versions of migration files ({@code V21_2__x.sql}: 21.2), in Flyway's order. */
  static java.util.List<String> versions(java.util.List<String> fileNames) {
    return fileNames.stream().filter(n -> n.startsWith("V") && n.endsWith(".sql")
        && n.contains("__")).map(n -> n.substring(1, n.indexOf("__")).replace('_', '.'))
        .sorted(java.util.Comparator.comparing(Runtime.Version::parse)).toList();
  }

  /** Whether opening this store ran Flyway (a new or older schema), or found it up to date. */
  public boolean migrated() {
    return migrated;
  }

  private static boolean waitedForAConnection(Throwable e) {
    for (var t = e; t != null; t = t.getCause()) {
      if (t instanceof java.sql.SQLTransientConnectionException) {
        return true;
      }
    }
    return false;
  }

  /**
   * H2 writes commits to its file in the background (500 ms later by default), so a SIGKILL
   * could lose jobs already acknowledged: {@code WRITE_DELAY=0} writes each commit before it
   * returns. The engine closes the database itself, after its last commit.
   */
  static String h2Defaults(String url) {
    if (!url.startsWith("jdbc:h2:file:")) {
      return url;
    }
    var upper = url.toUpperCase(java.util.Locale.ROOT);
    var sb = new StringBuilder(url);
    if (!upper.contains(";WRITE_DELAY=")) {
      sb.append(";WRITE_DELAY=0");
    }
    if (!upper.contains(";DB_CLOSE_ON_EXIT=")) {
      sb.append(";DB_CLOSE_ON_EXIT=FALSE");
    }
    return sb.toString();
  }

  /** The connection pool as it is now: connections in use, idle, in all, callers waiting. */
  public record Pool(String url, int active, int idle, int total, int max, int waiting) {}

  public Pool pool() {
    var bean = dataSource.getHikariPoolMXBean();
    return bean == null ? new Pool(redacted(url), 0, 0, 0, dataSource.getMaximumPoolSize(), 0)
        : new Pool(redacted(url), bean.getActiveConnections(), bean.getIdleConnections(),
            bean.getTotalConnections(), dataSource.getMaximumPoolSize(),
            bean.getThreadsAwaitingConnection());
  }

  /** The store's JDBC URL, as configured. */
  public String url() {
    return url;
  }

  public Jdbi jdbi() {
    return jdbi;
  }

  /** Whether the store answers, as the last access found. */
  public StoreHealth health() {
    return health;
  }

  private void probe() {
    jdbi.withHandle(h -> h.createQuery("SELECT 1").mapTo(Integer.class).one());
  }

  /** The URL without its query (which may carry a password). */
  private static String redacted(String url) {
    var q = url.indexOf('?');
    return q < 0 ? url : url.substring(0, q);
  }

  static String rootMessage(Throwable e) {
    var t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage();
  }

  /**
   * Closes the pool; H2 closes its file when the last connection goes. (An explicit SHUTDOWN
   * first made the pool close connections of a closed database, and H2 wrote a "Database is
   * already closed" trace into jobyard.trace.db at every clean stop.)
   */
  @Override
  public void close() {
    dataSource.close();
    StoreCheck.keepCopy(url);
  }
}
