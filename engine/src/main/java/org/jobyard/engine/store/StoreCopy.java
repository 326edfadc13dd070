package org.jobyard.engine.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Moves every job of one store into another, empty one (i18: {@code jobyard db migrate}, H2 to
 * PostgreSQL): the client and backend tables and the outbox, every column the two schemas share
 * (both are migrated to the same version when opened), in one transaction on the target. Jobs
 * keep their ids, states and attempts; they arrive with no owning engine, so the first engine
 * started on the target takes the live ones on.
 */
public final class StoreCopy {
  private static final List<String> TABLES = List.of("jobs", "attempts", "outbox");
  private static final int BATCH = 500;

  private StoreCopy() {}

  /** The target already holds jobs: nothing was copied. */
  public static final class TargetNotEmpty extends RuntimeException {
    TargetNotEmpty(String message) {
      super(message);
    }
  }

  public record Moved(long jobs, long live, long attempts, long outbox) {}

  public static Moved copy(Database from, Database into) {
    refuseLiveEngines(from);
    long already = into.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM jobs")
        .mapTo(Long.class).one());
    if (already > 0) {
      throw new TargetNotEmpty("the target store already holds " + already + " job(s); "
          + "migrate into an empty database (or schema): nothing was copied");
    }
    long live = from.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM jobs WHERE state"
        + " NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED')").mapTo(Long.class).one());
    var counts = new long[TABLES.size()];
    try {
      from.jdbi().useHandle(src -> into.jdbi().useTransaction(dst -> {
        for (int t = 0; t < TABLES.size(); t++) {
          counts[t] = copyTable(src.getConnection(), dst.getConnection(), TABLES.get(t));
        }
      }));
    } catch (SQLException | RuntimeException e) {
      throw new StoreException("cannot copy the jobs (nothing was copied): "
          + Database.rootMessage(e), e);
    }
    return new Moved(counts[0], live, counts[1], counts[2]);
  }

  /** A PostgreSQL source may be in use by engines holding a lease: they must stop first. */
  private static void refuseLiveEngines(Database from) {
    if (!from.url().startsWith("jdbc:postgresql:")) {
      return; // an H2 file in use cannot be opened at all
    }
    long running = from.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM engines WHERE"
        + " lease_until_ms > CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)")
        .mapTo(Long.class).one());
    if (running > 0) {
      throw new StoreException(running + " engine(s) use the source store (their leases run): "
          + "stop them first; nothing was copied", null);
    }
  }

  private static long copyTable(java.sql.Connection src, java.sql.Connection dst, String table)
      throws SQLException {
    var targetColumns = columns(dst, table);
    try (var read = src.createStatement();
        var rs = read.executeQuery("SELECT * FROM " + table)) {
      var meta = rs.getMetaData();
      var shared = new ArrayList<String>();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        var name = meta.getColumnName(i).toLowerCase(Locale.ROOT);
        if (targetColumns.contains(name)) {
          shared.add(name);
        }
      }
      // no owner yet: the first engine on the target takes the jobs and their clean-ups
      shared.remove("engine_id");
      shared.remove("pooled_for");
      var sql = "INSERT INTO " + table + " (" + String.join(", ", shared) + ") VALUES ("
          + String.join(", ", shared.stream().map(c -> "?").toList()) + ")";
      long n = 0;
      try (var insert = dst.prepareStatement(sql)) {
        while (rs.next()) {
          for (int i = 0; i < shared.size(); i++) {
            insert.setObject(i + 1, value(rs, shared.get(i)));
          }
          insert.addBatch();
          if (++n % BATCH == 0) {
            insert.executeBatch();
          }
        }
        insert.executeBatch();
      }
      return n;
    }
  }

  private static Object value(ResultSet rs, String column) throws SQLException {
    var v = rs.getObject(column);
    // timestamps as java.sql.Timestamp, which every driver takes for a TIMESTAMP column
    return v instanceof java.time.LocalDateTime t ? java.sql.Timestamp.valueOf(t) : v;
  }

  private static java.util.Set<String> columns(java.sql.Connection c, String table)
      throws SQLException {
    var out = new java.util.HashSet<String>();
    try (var s = c.createStatement(); var rs = s.executeQuery("SELECT * FROM " + table
        + " WHERE 1 = 0")) {
      for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
        out.add(rs.getMetaData().getColumnName(i).toLowerCase(Locale.ROOT));
      }
    }
    return out;
  }
}
