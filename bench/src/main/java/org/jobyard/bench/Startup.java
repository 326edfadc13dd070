package org.jobyard.bench;

import static org.jobyard.bench.Row.f;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code startup} (issue 19): the whole command as a user types it, through the tarball's
 * {@code bin/jobyard} — {@code ps} against a running engine and {@code run examples/hello.yaml} on
 * an existing store — with and without the class-data cache, next to {@code java -version} of
 * the same JDK. Median of several calls; CPU is the children's user + system time from the
 * shell's {@code times}.
 */
final class Startup {
  private Startup() {}

  /** Wall and CPU seconds of one command. */
  record Cost(double wall, double cpu) {}

  static List<Row> run(Path work, boolean small) throws Exception {
    int calls = small ? 3 : 7;
    var dir = work.resolve("startup");
    Files.createDirectories(dir);
    var jobyard = Engines.dist().resolve("bin/jobyard").toAbsolutePath().toString();
    var home = dir.resolve("home").toString();
    var hello = Engines.dist().resolve("examples/hello.yaml").toAbsolutePath().toString();
    var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // the JDK's own AOT cache switch: off keeps the JDK's default class-data archive
    var noCache = Runtime.version().feature() >= 25 ? Map.of("JOBYARD_JAVA_OPTS", "-XX:AOTMode=off")
        : Map.of("JOBYARD_JAVA_OPTS", "-XX:SharedArchiveFile=/dev/null");
    var rows = new ArrayList<Row>();

    var version = median(calls, dir, Map.of(), java, "-XX:+UseSerialGC", "-version");
    // the first run migrates a new store; the figure is for the runs after it
    var first = time(dir, Map.of(), jobyard, "--home", home, "run", "--progress", "none", hello);
    var run = median(calls, dir, Map.of(), jobyard, "--home", home, "run", "--progress", "none",
        hello);
    var runPlain = median(calls, dir, noCache, jobyard, "--home", home, "run", "--progress",
        "none", hello);
    rows.add(new Row("startup", f("jobyard run examples/hello.yaml, 3 jobs, store exists "
        + "(first run, new store: %.2f s)", first.wall()), f("%.2f s wall, %.2f s CPU",
        run.wall(), run.cpu()), f("%.2f s wall, %.2f s CPU (without the class-data cache)",
        runPlain.wall(), runPlain.cpu()), f("%.2f", run.wall() / runPlain.wall()), "<= 1 s wall",
        Row.verdict(run.wall() <= 1.0)));

    var engine = new ProcessBuilder(jobyard, "--home", home, "engine").directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(dir.resolve("engine.out").toFile()).start();
    try {
      var url = dir.resolve("home/var/run/engine.url");
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (!Files.exists(url) && System.nanoTime() < deadline) {
        Thread.sleep(100); // a daemon's start, bounded; this is a benchmark, not a test
      }
      InProcess.check(Files.exists(url), "startup: the engine did not start (see " + dir
          + "/engine.out)");
      var ps = median(calls, dir, Map.of(), jobyard, "--home", home, "ps");
      var psPlain = median(calls, dir, noCache, jobyard, "--home", home, "ps");
      rows.add(new Row("startup", "jobyard ps against a running engine, 3 jobs: wall",
          f("%.3f s (%.3f s without the cache)", ps.wall(), psPlain.wall()),
          f("%.3f s (java -version)", version.wall()), f("%.1f", ps.wall() / version.wall()),
          "<= 0.25 s and <= 6x java -version",
          Row.verdict(ps.wall() <= 0.25 && ps.wall() <= 6 * version.wall())));
      rows.add(new Row("startup", "jobyard ps against a running engine, 3 jobs: CPU",
          f("%.3f s (%.3f s without the cache)", ps.cpu(), psPlain.cpu()),
          f("%.3f s (java -version)", version.cpu()), f("%.1f", ps.cpu() / version.cpu()), "-",
          "-"));
    } finally {
      engine.destroy(); // SIGTERM: the engine stops in order
      engine.waitFor();
    }
    return rows;
  }

  private static Cost median(int calls, Path dir, Map<String, String> env, String... cmd)
      throws Exception {
    var walls = new double[calls];
    var cpus = new double[calls];
    for (int i = 0; i < calls; i++) {
      var c = time(dir, env, cmd);
      walls[i] = c.wall();
      cpus[i] = c.cpu();
    }
    Arrays.sort(walls);
    Arrays.sort(cpus);
    return new Cost(walls[calls / 2], cpus[calls / 2]);
  }

  /** One call through sh, whose {@code times} reports the children's CPU on its last line. */
  private static Cost time(Path dir, Map<String, String> env, String... cmd) throws Exception {
    var quoted = new StringBuilder();
    for (var a : cmd) {
      quoted.append(" '").append(a.replace("'", "'\\''")).append('\'');
    }
    var pb = new ProcessBuilder("sh", "-c", quoted + " > /dev/null 2>&1; s=$?; times; exit $s")
        .directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().putAll(env);
    long t0 = System.nanoTime();
    var p = pb.start();
    var out = new String(p.getInputStream().readAllBytes()).strip().lines().toList();
    int exit = p.waitFor();
    double wall = (System.nanoTime() - t0) / 1e9;
    InProcess.check(exit == 0, "startup: '" + String.join(" ", cmd) + "' exited " + exit);
    // "0m0.001s 0m0.002s" (the shell) then "0m1.234s 0m0.210s" (its children)
    var children = out.get(out.size() - 1).split("\\s+");
    return new Cost(wall, seconds(children[0]) + seconds(children[1]));
  }

  private static double seconds(String mAndS) {
    var m = mAndS.indexOf('m');
    return Double.parseDouble(mAndS.substring(0, m)) * 60
        + Double.parseDouble(mAndS.substring(m + 1, mAndS.length() - 1));
  }
}
