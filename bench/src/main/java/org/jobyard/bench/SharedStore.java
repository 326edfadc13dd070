package org.jobyard.bench;

import static org.jobyard.bench.Row.f;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jobyard.api.JobState;
import org.jobyard.engine.Engine;

/**
 * Issue 18: throughput of one vs two engines on one PostgreSQL schema (fresh for each), with the
 * zero-cost backend, every job submitted to the first engine: the second gets work only through
 * the shared queue (work shared out by capacity). In this JVM, so both engines share its CPUs.
 */
final class SharedStore {
  private SharedStore() {}

  static List<Row> run(Path work, int n) throws Exception {
    if (!"1".equals(InProcess.env("PG"))) {
      return List.of(Row.skipped("engines", "the testbed's PostgreSQL is not up"));
    }
    double one = throughput(work.resolve("engines-1"), 1, n);
    double two = throughput(work.resolve("engines-2"), 2, n);
    return List.of(new Row("engines", f("%,d zero-cost jobs, all submitted to one of two engines"
        + " on one PostgreSQL schema (max_jobs 200 each)", n), f("%.0f jobs/s", two),
        f("%.0f jobs/s (one engine)", one), f("%.2f", two / one), "-", "-"));
  }

  /** Jobs per second from the submit call to the last job's end in the store. */
  private static double throughput(Path dir, int engines, int n) throws Exception {
    var url = InProcess.env("PG_URL");
    var user = InProcess.env("PG_USER");
    var password = InProcess.env("PG_PASSWORD");
    var schema = "jobyard_engines_" + ProcessHandle.current().pid() + "_" + engines;
    try (var c = java.sql.DriverManager.getConnection(url, user, password);
        var s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    }
    var yaml = "database: {url: '" + url + (url.contains("?") ? "&" : "?") + "currentSchema="
        + schema + "', user: '" + user + "', password: '" + password + "'}\n"
        + "engine: {poll_interval: 1s}\n"
        + "clusters:\n  fake: {backend: bench-fake, max_jobs: 200}\n";
    var running = new ArrayList<Engine>();
    try {
      for (int i = 0; i < engines; i++) {
        running.add(Engines.start(dir.resolve("home-" + i), yaml));
      }
      var first = running.getFirst();
      long t0 = System.nanoTime();
      first.manager().submit("bench", Engines.trivial("e", n)).get(5, java.util.concurrent
          .TimeUnit.MINUTES);
      long end = System.currentTimeMillis() + 600_000;
      while (first.store().countByState().getOrDefault(JobState.SUCCEEDED, 0L) < n) {
        InProcess.check(System.currentTimeMillis() < end, "engines: jobs did not end in 10 min");
        Thread.sleep(20); // a measurement's sampling period, not a condition in a test
      }
      return n / ((System.nanoTime() - t0) / 1e9);
    } finally {
      for (var e : running) {
        e.close();
      }
      try (var c = java.sql.DriverManager.getConnection(url, user, password);
          var s = c.createStatement()) {
        s.execute("DROP SCHEMA " + schema + " CASCADE");
      }
    }
  }
}
