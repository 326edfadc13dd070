package org.jobyard.engine.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks an embedded H2 store before the engine opens it for writing, so that a store that exists
 * is never replaced: H2 would open a truncated file as a new empty database, and Flyway would fill
 * it, losing every job. The check opens the file read-only (nothing is written), refuses a store
 * that is damaged, in use by a running engine, or not writable, naming the file and saying what to
 * do. A store that passes, and a store closed cleanly, is copied to
 * {@code <name>.mv.db.last-good}, the copy to recover from.
 */
final class StoreCheck {
  private static final Logger LOG = LoggerFactory.getLogger(StoreCheck.class);
  static final String LAST_GOOD = ".last-good";

  private StoreCheck() {}

  /** Does nothing for PostgreSQL or in-memory H2; throws {@link StoreException} with advice. */
  static void beforeOpening(String url, String user, String password) {
    var file = file(url);
    if (file == null) {
      return;
    }
    var base = file.toString().substring(0, file.toString().length() - ".mv.db".length());
    var dir = file.getParent();
    var existing = dir;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent(); // H2 creates the missing folders below it
    }
    if (existing != null && (!Files.isDirectory(existing) || !Files.isWritable(existing))) {
      throw new StoreException("the job store's folder " + dir + " is not writable ("
          + existing + (Files.isDirectory(existing) ? " is read-only" : " is not a folder")
          + "); make it writable for this user, give a state folder of your own (--home DIR "
          + "or JOBYARD_HOME), or name another store (database.url, JOBYARD_DATABASE_URL)", null);
    }
    if (!Files.exists(file)) {
      return; // a new installation: H2 creates the store
    }
    if (!Files.isWritable(file)) {
      throw new StoreException("the job store " + file + " is not writable; make it writable "
          + "for this user", null);
    }
    var readOnly = "jdbc:h2:file:" + base + ";IFEXISTS=TRUE;ACCESS_MODE_DATA=r";
    try (var c = DriverManager.getConnection(readOnly, user, password);
        var s = c.createStatement()) {
      try (var rs = s.executeQuery("SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES "
          + "WHERE LOWER(TABLE_NAME) = 'flyway_schema_history'")) {
        if (!rs.next() || rs.getInt(1) == 0) {
          throw damaged(file, "it holds no Jobyard tables (cut short, or not a Jobyard store)",
              null);
        }
      }
      // read every row of both tables: a damaged page fails here, not in the middle of a run
      for (var table : new String[] {"jobs", "attempts"}) {
        try (var rs = s.executeQuery("SELECT * FROM " + table)) {
          int columns = rs.getMetaData().getColumnCount();
          while (rs.next()) {
            for (int i = 1; i <= columns; i++) {
              rs.getObject(i);
            }
          }
        } catch (SQLException e) {
          if (!e.getMessage().toLowerCase(Locale.ROOT).contains("not found")) {
            throw e;
          }
        }
      }
    } catch (SQLException e) {
      var message = String.valueOf(e.getMessage());
      if (message.contains("locked") || e.getErrorCode() == 90020) {
        throw new StoreException("an engine is running on this installation (it holds " + file
            + "): send jobs to it with 'jobyard submit', or stop it before 'jobyard run'", e);
      }
      throw damaged(file, firstLine(Database.rootMessage(e)), e);
    } catch (RuntimeException e) {
      if (e instanceof StoreException se) {
        throw se;
      }
      throw damaged(file, firstLine(Database.rootMessage(e)), e);
    }
    keepCopy(url);
  }

  /** The H2 store's file for a {@code jdbc:h2:file:} URL, else null. */
  static Path file(String url) {
    if (!url.startsWith("jdbc:h2:file:")) {
      return null;
    }
    var base = url.substring("jdbc:h2:file:".length());
    int semi = base.indexOf(';');
    return Path.of((semi < 0 ? base : base.substring(0, semi)) + ".mv.db").toAbsolutePath();
  }

  /**
   * Copies a store nobody holds (checked at start, or just closed) to {@code .last-good}: what
   * the advice for a damaged store restores.
   */
  static void keepCopy(String url) {
    var file = file(url);
    if (file == null || !Files.isRegularFile(file)) {
      return;
    }
    try {
      Files.copy(file, file.resolveSibling(file.getFileName() + LAST_GOOD),
          StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
    } catch (IOException e) {
      LOG.warn("could not keep a copy of the job store {}: {}", file, e.toString());
    }
  }

  private static StoreException damaged(Path file, String why, Throwable cause) {
    var copy = file.resolveSibling(file.getFileName() + LAST_GOOD);
    return new StoreException("the job store " + file + " is damaged: " + why + ". It was left "
        + "as it is. To recover: move it aside, then " + (Files.exists(copy)
            ? "copy " + copy + " (the store as the last engine start found it) to " + file
            : "start again with an empty store")
        + "; H2's Recover tool (org.h2.tools.Recover in lib/) can extract what the damaged file "
        + "still holds", cause);
  }

  private static String firstLine(String text) {
    var s = String.valueOf(text);
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
