package org.jobyard.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * The real services started by {@code testbed/testbed up}, as seen by a test. Values come from
 * {@code JOBYARD_TESTBED_*} environment variables, or else from running {@code testbed/testbed
 * env} in the repository.
 *
 * <p>A test calls {@link #require(String)}: when the service is missing the test is skipped with a
 * message saying how to start it, except under CI ({@code CI=true}, {@code CI=1}...), where a
 * missing service fails it.
 */
public final class Testbed {
  private static volatile Map<String, String> cached;

  private Testbed() {}

  /** Services known to the testbed script. */
  public static final String SSH = "SSH";
  public static final String PG = "PG";
  public static final String SLURM = "SLURM";
  /** A second Slurm, 24.11, for the Slurm plugin's second kit run (the system Slurm on Debian 13). */
  public static final String SLURM24 = "SLURM24";
  public static final String CONDOR = "CONDOR";
  public static final String ARC = "ARC";
  /** A second ARC CE, A-REX 7.0, for the ARC plugin's second kit run (the system ARC on Debian 13). */
  public static final String ARC7 = "ARC7";
  /** Not a daemon: Chromium, chromedriver and the Prometheus parser the tests drive. */
  public static final String BROWSER = "BROWSER";

  /** Whether {@code JOBYARD_TESTBED_<service>=1}. */
  public static boolean has(String service) {
    return "1".equals(values().get("JOBYARD_TESTBED_" + service));
  }

  /** Skips (or, under CI, fails) the calling test unless the service is up. */
  public static void require(String service) {
    if (has(service)) {
      return;
    }
    var how = "start it with: sudo testbed/testbed up " + serviceName(service);
    if (isCi()) {
      throw new AssertionError("testbed service " + serviceName(service)
          + " is not running, and CI is set, which makes that a failure; " + how);
    }
    Assumptions.abort("testbed service " + serviceName(service) + " is not running; " + how);
  }

  /**
   * Skips (or, under CI, fails) the calling test unless {@code what}, which the testbed service
   * installs, is present: for tools rather than daemons, found by looking at the machine.
   */
  public static void requireInstalled(String service, String what, boolean present) {
    if (present) {
      return;
    }
    var how = "install it with: sudo testbed/testbed up " + serviceName(service);
    if (isCi()) {
      throw new AssertionError(what + " is missing, and CI=true makes that a failure; " + how);
    }
    Assumptions.abort(what + " is missing; " + how);
  }

  /**
   * Skips (or, under CI, fails) the calling test unless a condition the testbed cannot check
   * itself holds, such as running as root; {@code what} says what needs it.
   */
  public static void requireThat(boolean condition, String what) {
    if (condition) {
      return;
    }
    if (isCi()) {
      throw new AssertionError(what + ", and CI is set, which makes a skipped test a failure");
    }
    Assumptions.abort(what + "; skipped");
  }

  /**
   * The testbed's PostgreSQL URL with a new, empty schema for the caller alone, so tests can run
   * side by side. Requires {@link #PG} (skipped, or failed under CI, without it) and a JDBC driver
   * for PostgreSQL on the class path.
   */
  public static String freshPostgresSchema() {
    require(PG);
    var url = get("PG_URL");
    var schema = "t" + Long.toHexString(System.nanoTime());
    try (var c = java.sql.DriverManager.getConnection(url, get("PG_USER"), get("PG_PASSWORD"));
        var s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("cannot create schema " + schema + " in " + url + ": "
          + e.getMessage(), e);
    }
    return url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema;
  }

  /** A value such as {@code get("SSH_PORT")} for {@code JOBYARD_TESTBED_SSH_PORT}. */
  public static String get(String key) {
    var v = values().get("JOBYARD_TESTBED_" + key);
    if (v == null) {
      throw new IllegalStateException("testbed value JOBYARD_TESTBED_" + key + " is not set");
    }
    return v;
  }

  public static Optional<String> find(String key) {
    return Optional.ofNullable(values().get("JOBYARD_TESTBED_" + key));
  }

  /** Whether CI is set to anything but an empty or false value ({@code true}, {@code 1}...). */
  public static boolean isCi() {
    return isTruthy(System.getenv("CI"));
  }

  static boolean isTruthy(String value) {
    if (value == null) {
      return false;
    }
    var v = value.strip().toLowerCase(java.util.Locale.ROOT);
    return !(v.isEmpty() || v.equals("0") || v.equals("false") || v.equals("no")
        || v.equals("off"));
  }

  /** The repository's top folder (from the build's {@code jobyard.repo} property). */
  public static Optional<Path> repository() {
    var p = System.getProperty("jobyard.repo");
    if (p != null && Files.isDirectory(Path.of(p, "testbed"))) {
      return Optional.of(Path.of(p));
    }
    var dir = Path.of("").toAbsolutePath();
    for (var d = dir; d != null; d = d.getParent()) {
      if (Files.isExecutable(d.resolve("testbed/testbed"))) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }

  private static String serviceName(String service) {
    return switch (service) {
      case SSH -> "sshd";
      case PG -> "postgres";
      default -> service.toLowerCase(java.util.Locale.ROOT);
    };
  }

  private static Map<String, String> values() {
    var v = cached;
    if (v == null) {
      v = load();
      cached = v;
    }
    return v;
  }

  private static Map<String, String> load() {
    var result = new HashMap<String, String>();
    var script = repository().map(r -> r.resolve("testbed/testbed"));
    if (script.isPresent()) {
      try {
        var p = new ProcessBuilder(script.get().toString(), "env")
            .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() == 0) {
          for (var line : out.split("\n")) {
            parseExport(line, result);
          }
        }
      } catch (IOException e) {
        // no testbed on this machine: services count as missing
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    System.getenv().forEach((k, val) -> {
      if (k.startsWith("JOBYARD_TESTBED_")) {
        result.put(k, val);
      }
    });
    return Map.copyOf(result);
  }

  static void parseExport(String line, Map<String, String> into) {
    line = line.strip();
    if (!line.startsWith("export ")) {
      return;
    }
    var eq = line.indexOf('=');
    if (eq < 0) {
      return;
    }
    var key = line.substring("export ".length(), eq).strip();
    var raw = line.substring(eq + 1);
    // bash's %q escapes with backslashes; testbed values are paths and numbers
    var value = raw.replaceAll("\\\\(.)", "$1");
    if (value.length() >= 2 && value.startsWith("'") && value.endsWith("'")) {
      value = value.substring(1, value.length() - 1);
    }
    into.put(key, value);
  }
}
