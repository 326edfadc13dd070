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
  private final HikariDataSource dataSource;
  private final Jdbi jdbi;
  private final String url;

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
    try {
      this.dataSource = new HikariDataSource(hc);
      Flyway.configure().dataSource(dataSource).locations("classpath:db/migration")
          .load().migrate();
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

  public Jdbi jdbi() {
    return jdbi;
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
