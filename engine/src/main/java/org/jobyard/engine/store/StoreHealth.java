package org.jobyard.engine.store;

import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.sql.SQLNonTransientConnectionException;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * Whether the job store answers, as the last access found out. While it does not, reads are
 * refused at once, so that the API answers "store unavailable" within a second instead of
 * waiting for a connection each time; a probe in the background (at most one per {@link
 * #PROBE_EVERY}) finds out when it is back.
 */
public final class StoreHealth {
  /** While down, at most one access per this interval tries the database. */
  static final Duration PROBE_EVERY = Duration.ofSeconds(1);

  /** H2 error codes for a store that cannot be written or read: read-only, closed, I/O. */
  private static final Set<Integer> H2_OUTAGE = Set.of(90097, 90098, 90028, 90031, 90121);

  private final String where;
  private final Runnable probe;
  private final java.util.concurrent.atomic.AtomicBoolean probing =
      new java.util.concurrent.atomic.AtomicBoolean();
  private volatile Instant downSince;
  private volatile String lastError;
  private volatile long lastProbeNanos;

  /**
   * @param where the store, for messages (a URL without credentials)
   * @param probe one cheap round trip to the database; throws if it does not answer
   */
  public StoreHealth(String where, Runnable probe) {
    this.where = where;
    this.probe = probe;
  }

  /** What the health endpoint shows. */
  public record Status(boolean available, Instant downSince, String lastError) {}

  public Status status() {
    var since = downSince;
    return new Status(since == null, since, since == null ? null : lastError);
  }

  public boolean available() {
    return downSince == null;
  }

  void up() {
    downSince = null;
  }

  /** Records the outage and returns the exception to throw for it. */
  StoreUnavailableException down(Throwable cause) {
    lastError = Database.rootMessage(cause);
    if (downSince == null) {
      downSince = Instant.now();
    }
    lastProbeNanos = System.nanoTime();
    return unavailable(cause);
  }

  /** Throws at once while the store is down; starts a probe in the background now and then. */
  void checkAvailable() {
    if (downSince == null) {
      return;
    }
    var now = System.nanoTime();
    if (now - lastProbeNanos >= PROBE_EVERY.toNanos() && probing.compareAndSet(false, true)) {
      lastProbeNanos = now;
      Thread.ofVirtual().name("store-probe").start(() -> {
        try {
          probe.run();
          up();
        } catch (RuntimeException e) {
          if (isOutage(e)) {
            lastError = Database.rootMessage(e);
          } else {
            up(); // it answered, if only with an error: not an outage
          }
        } finally {
          probing.set(false);
        }
      });
    }
    throw unavailable(null);
  }

  StoreUnavailableException unavailable(Throwable cause) {
    return new StoreUnavailableException(unavailableMessage(), cause);
  }

  /** One line for a user: what is away, since when, and what to do. */
  public String unavailableMessage() {
    var since = downSince;
    return "store unavailable: the job store at " + where + " does not answer"
        + (since == null ? "" : " (since " + since.truncatedTo(java.time.temporal.ChronoUnit
            .SECONDS) + ")") + ": " + lastError + "; jobs keep their state and the engine "
        + "resumes when it is back; try again in a few seconds";
  }

  /**
   * Whether a database error means "the store is away" (connection refused or lost, the server
   * shutting down, a full or read-only disk) rather than a bad statement or a bug.
   */
  public static boolean isOutage(Throwable error) {
    for (var t = error; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientConnectionException && t.getCause() == null) {
        return false; // the pool was busy, the database is fine (Hikari gives no cause then)
      }
      if (t instanceof StoreUnavailableException || t instanceof SQLTransientConnectionException
          || t instanceof SQLNonTransientConnectionException
          || t instanceof SQLRecoverableException || t instanceof java.net.ConnectException) {
        return true;
      }
      var message = String.valueOf(t.getMessage());
      if (message.contains("No space left on device") || message.contains("Read-only file system")) {
        return true;
      }
      if (t instanceof SQLException e) {
        var state = e.getSQLState() == null ? "" : e.getSQLState();
        // 08: connection; 57P0x: server shutting down; 53: out of disk, memory or connections;
        // 25006: read-only transaction
        if (state.startsWith("08") || state.startsWith("57P") || state.startsWith("53")
            || state.equals("25006") || H2_OUTAGE.contains(e.getErrorCode())) {
          return true;
        }
      }
    }
    return false;
  }
}
