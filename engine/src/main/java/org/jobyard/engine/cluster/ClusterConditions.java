package org.jobyard.engine.cluster;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import org.jobyard.api.Condition;
import org.jobyard.api.CredentialExpiry;

/**
 * What users see of each cluster besides its jobs: the conditions its backend's periodic hook
 * last returned (or the hook's failure) and its credentials' expiry, as {@code jobyard backends}
 * and {@code GET /api/v1/backends} show them. Written from backend threads, read by the API.
 */
public final class ClusterConditions {
  /** A credential with less than this left is shown as a warning. */
  public static final Duration NEAR_EXPIRY = Duration.ofHours(2);

  private final Clock clock;
  private final Map<String, Board> boards = new ConcurrentHashMap<>();

  public ClusterConditions() {
    this(Clock.systemUTC());
  }

  public ClusterConditions(Clock clock) {
    this.clock = requireNonNull(clock, "clock is null");
  }

  private static final class Board {
    final Map<String, CredentialExpiry> credentials = new ConcurrentSkipListMap<>();
    volatile List<Condition> maintained = List.of();
    volatile Instant maintainedAt;
  }

  private Board board(String cluster) {
    return boards.computeIfAbsent(cluster, c -> new Board());
  }

  /** Records a credential's expiry; the latest report per name wins. */
  public void credentialExpires(String cluster, CredentialExpiry expiry) {
    board(cluster).credentials.put(expiry.name(), expiry);
  }

  /** Records what the periodic hook returned, replacing its previous conditions. */
  public void maintained(String cluster, List<Condition> conditions) {
    var b = board(cluster);
    b.maintained = List.copyOf(conditions);
    b.maintainedAt = clock.instant();
  }

  /** Records that the periodic hook failed: an error condition until it next succeeds. */
  public void maintenanceFailed(String cluster, String error) {
    maintained(cluster, List.of(Condition.error("maintenance", "the backend's periodic hook "
        + "failed: " + error)));
  }

  /** The cluster's conditions: the hook's, then one per credential near or past its expiry. */
  public List<Condition> conditions(String cluster) {
    var b = board(cluster);
    var out = new ArrayList<>(b.maintained);
    for (var c : b.credentials.values()) {
      var left = Duration.between(clock.instant(), c.expires());
      if (left.compareTo(NEAR_EXPIRY) < 0) {
        out.add(Condition.warning("credential", describe(c) + (left.isNegative()
            ? "; renew it: the cluster refuses it now" : "; renew it soon")));
      }
    }
    return List.copyOf(out);
  }

  /** Whether any condition is a warning or an error. */
  public boolean degraded(String cluster) {
    return conditions(cluster).stream().anyMatch(c -> c.severity() != Condition.Severity.OK);
  }

  /** The cluster's credentials for the API: name, expires, seconds left, status, a sentence. */
  public List<Map<String, Object>> credentials(String cluster) {
    var out = new ArrayList<Map<String, Object>>();
    for (var c : board(cluster).credentials.values()) {
      var left = Duration.between(clock.instant(), c.expires());
      var m = new LinkedHashMap<String, Object>();
      m.put("name", c.name());
      m.put("expires", c.expires().toString());
      m.put("expires_in_seconds", left.toSeconds());
      m.put("status", left.isNegative() ? "expired"
          : left.compareTo(NEAR_EXPIRY) < 0 ? "expiring" : "ok");
      m.put("message", describe(c));
      out.add(m);
    }
    return out;
  }

  /** When the periodic hook last ran, or null. */
  public Instant maintainedAt(String cluster) {
    return board(cluster).maintainedAt;
  }

  private String describe(CredentialExpiry c) {
    var left = Duration.between(clock.instant(), c.expires());
    return left.isNegative() ? c.name() + " expired " + human(left.negated()) + " ago"
        : c.name() + " expires in " + human(left);
  }

  /** {@code 2 h}, {@code 35 min}, {@code 3 d}: rounded down to the largest unit. */
  static String human(Duration d) {
    if (d.toDays() >= 2) {
      return d.toDays() + " d";
    }
    if (d.toHours() >= 1) {
      return d.toHours() + " h";
    }
    if (d.toMinutes() >= 1) {
      return d.toMinutes() + " min";
    }
    return d.toSeconds() + " s";
  }
}
