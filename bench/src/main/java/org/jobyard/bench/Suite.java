package org.jobyard.bench;

import static org.jobyard.bench.Row.f;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code bench/run}: runs the benchmarks against the unpacked tarball, prints the table of figures
 * and ratios against baselines measured in the same run, and appends it to BENCHMARKS.md. Never
 * judges timings by its exit status: it fails only when something did not run or a count is
 * wrong.
 */
public final class Suite {
  static final List<String> ALL = List.of("startup", "local", "slurm", "condor", "polling", "ssh",
      "scale", "crash", "micro", "engines", "arc");

  private final boolean small;
  private final Set<String> only;
  private final Path repo;
  private final Path work;
  private final List<Row> rows = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();

  Suite(boolean small, Set<String> only, Path repo, Path work) {
    this.small = small;
    this.only = only;
    this.repo = repo;
    this.work = work;
  }

  public static void main(String[] args) throws Exception {
    boolean small = false;
    boolean record = true;
    var only = new java.util.LinkedHashSet<String>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--short" -> small = true;
        case "--no-record" -> record = false;
        case "--only" -> {
          for (var name : args[++i].split(",")) {
            if (!ALL.contains(name)) {
              System.err.println("bench: unknown benchmark '" + name + "'; known: " + ALL);
              System.exit(2);
            }
            only.add(name);
          }
        }
        default -> {
          System.err.println("bench: unknown option " + args[i]);
          System.exit(2);
        }
      }
    }
    var repo = Path.of(System.getProperty("jobyard.repo", ".")).toAbsolutePath().normalize();
    var work = repo.resolve("bench/target/work");
    deleteTree(work);
    Files.createDirectories(work);
    var suite = new Suite(small, only.isEmpty() ? Set.copyOf(ALL) : only, repo, work);
    var started = ZonedDateTime.now();
    var loadBefore = sh("cut -d' ' -f1-3 /proc/loadavg");
    long t0 = System.nanoTime();
    suite.runAll();
    var elapsed = (System.nanoTime() - t0) / 1e9;
    var loadAfter = sh("cut -d' ' -f1-3 /proc/loadavg");
    var table = suite.table();
    System.out.println();
    System.out.print(table);
    var machine = machine(loadBefore, loadAfter);
    System.out.println();
    System.out.print(machine);
    System.out.printf("%nsuite took %.0f s%n", elapsed);
    if (record) {
      var cmd = System.getProperty("jobyard.command", "bench/run");
      var section = "\n### " + started.format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z"))
          + (small ? " (short)" : " (full)") + "\n\n`" + cmd + "` — " + f("%.0f s", elapsed)
          + (suite.failures.isEmpty() ? "" : ", FAILURES: " + suite.failures) + "\n\n"
          + machine.lines().map(l -> "    " + l).reduce("", (a, b) -> a + b + "\n") + "\n"
          + suite.markdown();
      var file = repo.resolve("BENCHMARKS.md");
      Files.writeString(file, section, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      System.out.println("appended to " + file);
    }
    if (!suite.failures.isEmpty()) {
      System.err.println("bench: FAILED: " + suite.failures);
      System.exit(1);
    }
    System.exit(0);
  }

  void runAll() {
    for (var name : ALL) {
      if (!only.contains(name)) {
        continue;
      }
      System.out.println("== " + name + (small ? " (short)" : ""));
      long t0 = System.nanoTime();
      try {
        var got = switch (name) {
          case "startup" -> Startup.run(work, small);
          case "local" -> local();
          case "slurm" -> InProcess.slurm(work, small ? 50 : 1000, repo);
          // -Djobyard.bench.condor_jobs=N: the loop baseline takes ~1 s per job on a busy box
          case "condor" -> InProcess.condor(work, Integer.getInteger("jobyard.bench.condor_jobs",
              small ? 20 : 1000), repo);
          case "polling" -> InProcess.polling(work, new int[] {10, 1_000, 10_000},
              small ? 1_000 : 3_000);
          case "ssh" -> InProcess.ssh(small ? 50 : 1000);
          case "scale" -> scale();
          case "crash" -> crash();
          case "micro" -> micro();
          case "engines" -> SharedStore.run(work, small ? 500 : 5000);
          case "arc" -> Arc.run(work, small ? 5 : 50);
          default -> throw new IllegalStateException(name);
        };
        got.forEach(r -> System.out.println("   " + r.figure() + ": " + r.value() + " | "
            + r.baseline() + " | ratio " + r.ratio() + " | " + r.verdict()));
        rows.addAll(got);
      } catch (Exception | AssertionError e) {
        e.printStackTrace();
        failures.add(name + ": " + e.getMessage());
        rows.add(new Row(name, "(failed)", "-", "-", "-", "-", "FAILED: " + e.getMessage()));
      }
      System.out.printf("   (%s took %.0f s)%n", name, (System.nanoTime() - t0) / 1e9);
    }
  }

  // -------------------------------------------------------------------------------- local ---

  List<Row> local() throws Exception {
    int n = small ? 1_000 : 10_000;
    var out = new ArrayList<Row>();
    for (int p : new int[] {2, 8, 32}) {
      var dir = work.resolve("local-" + p);
      Files.createDirectories(dir);
      var jobs = dir.resolve("jobs.yaml");
      Files.writeString(jobs, "sweep: {i: {from: 1, to: " + n + "}}\n"
          + "job: {name: 't-${i}', executable: /bin/true}\n");
      var conf = dir.resolve("jobyard.yaml");
      Files.writeString(conf, "database: {url: '" + Engines.h2(dir) + "'}\n"
          + "clusters:\n  local: {backend: local, slots: " + p + ", workdir: '"
          + dir.resolve("jobs") + "'}\n");
      var summary = dir.resolve("summary.json");
      long t0 = System.nanoTime();
      var pb = new ProcessBuilder(Engines.dist().resolve("bin/jobyard").toString(), "run",
          "--config", conf.toString(), "--progress", "none", "-o", "json", jobs.toString())
          .directory(dir.toFile()).redirectOutput(summary.toFile())
          .redirectError(dir.resolve("stderr").toFile());
      int exit = pb.start().waitFor();
      double wall = (System.nanoTime() - t0) / 1e9;
      var json = new ObjectMapper().readTree(summary.toFile());
      int ok = json.path("succeeded").asInt(-1);
      InProcess.check(exit == 0 && ok == n, "local: jobyard run exited " + exit + " with "
          + ok + " of " + n + " succeeded (see " + dir + "/stderr)");
      double inEngine = json.path("elapsed_seconds").asDouble();
      // the baseline: the same processes, same parallelism
      t0 = System.nanoTime();
      int xexit = new ProcessBuilder("sh", "-c", "seq 1 " + n + " | xargs -n 1 -P " + p
          + " /bin/true").inheritIO().start().waitFor();
      double xargs = (System.nanoTime() - t0) / 1e9;
      InProcess.check(xexit == 0, "local: xargs failed");
      deleteTree(dir.resolve("jobs"));
      double rate = n / wall;
      out.add(new Row("local", f("%,d x /bin/true, jobyard run, slots %d (in engine %.2f s, "
          + "%.0f jobs/s)", n, p, inEngine, n / inEngine), f("%.2f s, %.0f jobs/s", wall, rate),
          f("%.2f s, %.0f jobs/s (xargs -P %d)", xargs, n / xargs, p), f("%.2f", wall / xargs),
          "<= 1.5x xargs and >= 1000 jobs/s", Row.verdict(wall / xargs <= 1.5 && rate >= 1000)));
    }
    out.add(localCrash());
    return out;
  }

  /**
   * An engine running short local jobs is SIGKILLed with jobs in every state (queued in the
   * engine, handed to the runner, running, ended but not yet seen); a new engine on the store
   * finishes the run. Every job must have run exactly once: nothing lost, nothing twice.
   */
  Row localCrash() throws Exception {
    int n = small ? 600 : 3_000;
    int slots = 8;
    var dir = work.resolve("local-crash");
    deleteTree(dir);
    Files.createDirectories(dir);
    var load = new ProcessBuilder(java("-Xmx512m", "local-crash-load", dir.toString(),
        Integer.toString(n), Integer.toString(slots)))
        .redirectError(dir.resolve("load.log").toFile()).start();
    try (var r = new BufferedReader(new InputStreamReader(load.getInputStream()))) {
      String line;
      while ((line = r.readLine()) != null && !line.equals("LOADED")) {
        // wait until a third of the jobs ran
      }
      InProcess.check("LOADED".equals(line), "local crash: the engine ended early (see "
          + dir.resolve("load.log") + ")");
      load.destroyForcibly(); // SIGKILL in the middle of the run
    }
    load.waitFor(60, TimeUnit.SECONDS);
    long t0 = System.nanoTime();
    var p = new ProcessBuilder(java("-Xmx512m", "local-crash-recover", dir.toString(),
        Integer.toString(n), Integer.toString(slots)))
        .redirectError(dir.resolve("recover.log").toFile()).start();
    String result = null;
    try (var r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
      for (String line; (line = r.readLine()) != null; ) {
        if (line.startsWith("RECOVERED\t")) {
          result = line;
        }
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    InProcess.check(p.waitFor() == 0 && result != null, "local crash: recovery failed (see "
        + dir.resolve("recover.log") + ")");
    var fl = result.split("\t");
    long done = Long.parseLong(fl[1]);
    long stored = Long.parseLong(fl[2]);
    long lines = Long.parseLong(fl[3]);
    long distinct = Long.parseLong(fl[4]);
    boolean exact = done == n && stored == n && lines == n && distinct == n;
    InProcess.check(exact, f("local crash: %d of %d jobs stored, %d succeeded, %d runs of %d "
        + "distinct jobs (each must run exactly once)", stored, n, done, lines, distinct));
    return new Row("local", f("SIGKILL of the engine in the middle of %,d local jobs (slots %d), "
        + "then a new engine on the store: runs recorded / distinct jobs / succeeded", n, slots),
        f("%d / %d / %d (restart to all ended %.1f s)", lines, distinct, done, seconds),
        f("%d each", n), "-", "each job exactly once", Row.verdict(exact));
  }

  // ------------------------------------------------------------------------ child JVMs ---

  List<String> java(String heap, String... args) {
    var cmd = new ArrayList<String>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add(heap);
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-Djobyard.dist=" + Engines.dist());
    cmd.add("-Djobyard.bench.window=" + (small ? 3_000 : 10_000));
    if (System.getProperty("jobyard.bench.h2") != null) {
      cmd.add("-Djobyard.bench.h2=" + System.getProperty("jobyard.bench.h2"));
    }
    cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(InProcess.class.getName());
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** Runs a child JVM, echoing its output, and returns its ROW lines. */
  List<Row> child(Path log, List<String> cmd) throws Exception {
    return child(log, cmd, new ArrayList<>());
  }

  List<Row> child(Path log, List<String> cmd, List<String> other) throws Exception {
    var p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    var got = new ArrayList<Row>();
    try (var r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
      for (String line; (line = r.readLine()) != null; ) {
        if (line.startsWith("ROW\t")) {
          got.add(Row.parse(line));
        } else {
          other.add(line);
        }
      }
    }
    int exit = p.waitFor();
    InProcess.check(exit == 0, "child " + cmd.get(cmd.size() - 3) + " exited " + exit + " (see "
        + log + ")");
    return got;
  }

  List<Row> scale() throws Exception {
    int n = small ? 5_000 : 100_000;
    var out = new ArrayList<Row>();
    var dir = work.resolve("scale-h2");
    Files.createDirectories(dir);
    out.addAll(scalePair(dir, n));
    if (!"1".equals(InProcess.env("PG"))) {
      out.add(Row.skipped("scale", "the testbed's PostgreSQL is not up"));
      return out;
    }
    // a schema of our own, so that no other engine's jobs are touched
    var schema = "jobyard_bench_" + ProcessHandle.current().pid();
    var url = InProcess.env("PG_URL");
    var user = InProcess.env("PG_USER");
    var password = InProcess.env("PG_PASSWORD");
    try (var c = java.sql.DriverManager.getConnection(url, user, password);
        var s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    }
    try {
      var pdir = work.resolve("scale-pg");
      Files.createDirectories(pdir);
      out.addAll(scalePair(pdir, n, url + (url.contains("?") ? "&" : "?") + "currentSchema="
          + schema, user, password));
    } finally {
      try (var c = java.sql.DriverManager.getConnection(url, user, password);
          var s = c.createStatement()) {
        s.execute("DROP SCHEMA " + schema + " CASCADE");
      }
    }
    return out;
  }

  /** Fill (cold start on the empty store as baseline), then a cold restart on the full store. */
  List<Row> scalePair(Path dir, int n, String... db) throws Exception {
    var fill = new ArrayList<>(List.of("scale-fill", dir.toString(), Integer.toString(n)));
    fill.addAll(List.of(db));
    var out = new ArrayList<Row>();
    var lines = new ArrayList<String>();
    out.addAll(child(dir.resolve("fill.log"), java("-Xmx1g", fill.toArray(String[]::new)),
        lines));
    var empty = lines.stream().filter(l -> l.startsWith("EMPTY\t")).findFirst()
        .orElseThrow(() -> new IllegalStateException("scale: no baseline start")).split("\t");
    var measure = new ArrayList<>(List.of("scale", dir.toString(), Integer.toString(n), empty[1],
        empty[2]));
    measure.addAll(List.of(db));
    out.addAll(child(dir.resolve("log"), java("-Xmx1g", measure.toArray(String[]::new)),
        new ArrayList<>()));
    return out;
  }

  /**
   * Restart after SIGKILL with N jobs in flight, next to a restart after an orderly stop. Killed
   * twice: at once after the last acknowledgement (does the store keep what it acknowledged?) and
   * 2 s later (the recovery time, with everything on disk).
   */
  List<Row> crash() throws Exception {
    int n = small ? 500 : 10_000;
    var out = new ArrayList<Row>();
    int tries = small ? 1 : 3;
    var lost = new ArrayList<Long>();
    long[] now = null;
    for (int i = 0; i < tries; i++) {
      now = crashPhase("crash-kill-now-" + i, n, true, 0);
      lost.add(n - now[4]);
      InProcess.check(now[3] == now[4] && now[5] == 0, "crash: jobs that survived an immediate "
          + "SIGKILL were not all reconciled, or were resubmitted");
    }
    var killed = crashPhase("crash-kill", n, true, 2_000);
    var stopped = crashPhase("crash-stop", n, false, 0);
    for (var r : List.of(killed, stopped)) {
      InProcess.check(r[4] == n && r[3] == n && r[5] == 0, f("crash: after restart %d of %d "
          + "jobs in the store, %d succeeded, %d resubmitted", r[4], n, r[3], r[5]));
    }
    out.add(new Row("crash", f("acknowledged jobs lost by SIGKILL at once after the last "
        + "acknowledgement (H2 file store), of %,d, %d tries", n, tries), lost.toString(), "0",
        "-", "0 (SIGKILL loses nothing acknowledged)",
        Row.verdict(lost.stream().allMatch(x -> x == 0))));
    out.add(new Row("crash", f("restart after SIGKILL, %,d jobs in flight: to all reconciled "
        + "(engine ready after %.2f s; %d poll call(s), 0 resubmitted, %,d/%,d succeeded)", n,
        killed[0] / 1e9, killed[6], killed[3], n), f("%.2f s (%.2f s incl. JVM start)",
        killed[1] / 1e9, killed[2] / 1e3), f("%.2f s (after an orderly stop)", stopped[1] / 1e9),
        f("%.2f", killed[1] / (double) stopped[1]), "nothing lost or resubmitted",
        Row.verdict(killed[3] == n && killed[5] == 0)));
    return out;
  }

  /**
   * Loads N jobs in one engine, kills it (or stops it), restarts on the store and waits for
   * every stored job to be reconciled. Returns ready ns, reconciled ns, ms since JVM start,
   * succeeded, jobs in the store, resubmitted, poll calls, wall ns of the restart.
   */
  long[] crashPhase(String name, int n, boolean kill, long settle) throws Exception {
    var dir = work.resolve(name);
    Files.createDirectories(dir);
    var load = new ProcessBuilder(java("-Xmx1g", "crash-load", dir.toString(),
        Integer.toString(n), kill ? "kill" : "stop", Long.toString(settle)))
        .redirectError(dir.resolve("load.log").toFile()).start();
    try (var r = new BufferedReader(new InputStreamReader(load.getInputStream()))) {
      String line;
      while ((line = r.readLine()) != null && !line.equals("LOADED")) {
        // wait for all jobs to be in flight
      }
      InProcess.check("LOADED".equals(line), "crash: the loading engine ended early (see "
          + dir.resolve("load.log") + ")");
      if (kill) {
        load.destroyForcibly(); // SIGKILL
      }
    }
    load.waitFor(120, TimeUnit.SECONDS);
    var recover = new ProcessBuilder(java("-Xmx1g", "crash-recover", dir.toString(),
        Integer.toString(n))).redirectError(dir.resolve("recover.log").toFile());
    long t0 = System.nanoTime();
    var p = recover.start();
    String result = null;
    try (var r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
      for (String line; (line = r.readLine()) != null; ) {
        if (line.startsWith("RECOVERED\t")) {
          result = line;
        }
      }
    }
    long wall = System.nanoTime() - t0;
    InProcess.check(p.waitFor() == 0 && result != null, "crash: recovery failed (see "
        + dir.resolve("recover.log") + ")");
    var fl = result.split("\t");
    return new long[] {Long.parseLong(fl[1]), Long.parseLong(fl[2]), Long.parseLong(fl[3]),
        Long.parseLong(fl[4]), Long.parseLong(fl[5]), Long.parseLong(fl[6]),
        Long.parseLong(fl[7]), wall};
  }

  List<Row> micro() throws Exception {
    var log = work.resolve("micro.log");
    var cmd = java("-Xmx512m", "x");
    cmd.set(cmd.indexOf(InProcess.class.getName()), Micro.class.getName());
    cmd.removeLast();
    cmd.add(small ? "short" : "full");
    var out = child(log, cmd);
    return out;
  }

  // -------------------------------------------------------------------------------- output ---

  String table() {
    var header = new Row("bench", "figure", "value", "baseline (same run)", "ratio", "goal",
        "verdict");
    var all = new ArrayList<Row>();
    all.add(header);
    all.addAll(rows);
    int[] w = new int[7];
    for (var r : all) {
      var c = cells(r);
      for (int i = 0; i < 7; i++) {
        w[i] = Math.min(Math.max(w[i], c[i].length()), i == 1 ? 90 : 60);
      }
    }
    var sb = new StringBuilder();
    for (var r : all) {
      var c = cells(r);
      for (int i = 0; i < 7; i++) {
        sb.append(String.format("%-" + w[i] + "s", c[i])).append(i < 6 ? "  " : "\n");
      }
    }
    return sb.toString();
  }

  String markdown() {
    var sb = new StringBuilder("| bench | figure | value | baseline (same run) | ratio | goal |"
        + " verdict |\n|---|---|---|---|---|---|---|\n");
    for (var r : rows) {
      sb.append("| ").append(String.join(" | ", List.of(cells(r)))
          .replace("\n", " ")).append(" |\n");
    }
    return sb.toString();
  }

  private static String[] cells(Row r) {
    return new String[] {r.bench(), r.figure(), r.value(), r.baseline(), r.ratio(), r.goal(),
        r.verdict()};
  }

  static String machine(String loadBefore, String loadAfter) {
    return "nproc " + sh("nproc") + "; memory " + sh("free -g | awk '/^Mem:/ {print $2 \" GB,"
        + " \" $7 \" GB available\"}'") + "; Debian " + sh("cat /etc/debian_version")
        + "; kernel " + sh("uname -r") + "\n"
        + "JDK " + System.getProperty("java.vm.vendor") + " " + Runtime.version() + "\n"
        + "load average (1/5/15 min) before " + loadBefore + ", after " + loadAfter + "\n";
  }

  static String sh(String script) {
    try {
      var p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
      var s = new String(p.getInputStream().readAllBytes()).strip();
      p.waitFor();
      return s;
    } catch (IOException | InterruptedException e) {
      return "?";
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (var p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
