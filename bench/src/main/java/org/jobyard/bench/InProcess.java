package org.jobyard.bench;

import static org.jobyard.bench.Row.f;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.BackendContext;
import org.jobyard.api.Command;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobState;
import org.jobyard.api.Settings;
import org.jobyard.engine.Engine;
import org.jobyard.engine.plugin.PluginRegistry;
import org.jobyard.engine.store.JobQuery;
import org.jobyard.engine.transport.ssh.SshSettings;
import org.jobyard.engine.transport.ssh.SshTransport;

/**
 * The benchmarks that drive the engine's classes in this JVM (loaded from the tarball's lib/),
 * and the child-JVM entry points for those that need a JVM of their own (heap, SIGKILL).
 */
final class InProcess {
  private InProcess() {}

  static String env(String name) {
    return System.getenv("JOBYARD_TESTBED_" + name);
  }

  static boolean testbed(String service) {
    return "1".equals(env(service));
  }

  // ------------------------------------------------------------------------------ polling ---

  /**
   * Backend poll calls per poll cycle with N tracked jobs (engine with the zero-cost backend), and
   * transport commands per backend poll of N jobs for each installed plugin (simulated transport).
   */
  static List<Row> polling(Path work, int[] sizes, long window) throws Exception {
    var rows = new ArrayList<Row>();
    for (int n : sizes) {
      var home = work.resolve("polling-" + n);
      var yaml = "database: {url: '" + Engines.h2(home) + "'}\n"
          + "engine: {poll_interval: 200ms}\n"
          + "clusters:\n  fake: {backend: bench-fake, run_ms: 3600000}\n";
      FakeBackend.reset();
      try (var engine = Engines.start(home, yaml)) {
        var states = new Engines.States();
        engine.manager().addListener(states);
        engine.manager().submit("bench", Engines.trivial("p", n)).get(5, TimeUnit.MINUTES);
        if (!states.await(s -> s == JobState.RUNNING, n, 120_000)) {
          throw new IllegalStateException("polling: only " + states.count(s -> s
              == JobState.RUNNING) + " of " + n + " jobs running");
        }
        long calls0 = FakeBackend.POLL_CALLS.get();
        long refs0 = FakeBackend.POLLED_REFS.get();
        Thread.sleep(window);
        long calls = FakeBackend.POLL_CALLS.get() - calls0;
        long refs = FakeBackend.POLLED_REFS.get() - refs0;
        double cycles = refs / (double) n;
        double perCycle = calls / cycles;
        rows.add(new Row("polling", f("engine: backend poll calls per cycle, %,d jobs", n),
            f("%.2f (%d calls, %.1f cycles in %.0f s)", perCycle, calls, cycles,
                window / 1e3),
            f("%,d (one call per job)", n), f("%.5f", perCycle / n), "1 per cluster per cycle",
            Row.verdict(Math.abs(perCycle - 1) < 0.01)));
      }
    }
    var registry = PluginRegistry.load(Engines.dist().resolve("plugins"));
    for (var loaded : registry.loaded()) {
      var name = loaded.name();
      if (name.equals("bench-fake")) {
        continue;
      }
      if (!loaded.provider().requirements().contains(org.jobyard.api.Requirement.TRANSPORT)) {
        // an HTTP backend sends no commands: its one request per poll is measured by its own
        // bench (ArcBench) and ArcBackendTest
        rows.add(new Row("polling", "plugin " + name + ": transport commands per poll", "-", "-",
            "-", "constant", "skipped: it talks HTTP, not commands"));
        continue;
      }
      var per = new ArrayList<Long>();
      String error = null;
      for (int n : sizes) {
        var ids = new ArrayList<String>(n);
        for (int i = 0; i < n; i++) {
          ids.add(Integer.toString(100_000 + i));
        }
        var sim = new SimTransport(ids);
        var settings = Map.of("workdir", "/tmp/jobyard-bench-sim", "partition", "debug");
        var context = new BackendContext("sim", new Settings("cluster 'sim'", settings), sim,
            Files.createDirectories(work.resolve("sim-" + name)), BackendContext.Events.NONE);
        try (var backend = loaded.provider().create(context)) {
          var refs = new ArrayList<JobRef>(n);
          for (int i = 0; i < n; i++) {
            var tag = "jy-bench" + i + ".1";
            // each batch system's own id shape: HTCondor's is cluster.proc
            var nativeId = Integer.toString(100_000 + i) + (name.equals("condor") ? ".0" : "");
            refs.add(new JobRef("jy-bench" + i, nativeId,
                Map.of("dir", "/tmp/jobyard-bench-sim/" + tag, "tag", tag)));
          }
          backend.poll(refs);
          if (sim.commands.get() == 0) {
            // a poll that asked nothing measured nothing (ids the backend does not recognise)
            throw new IllegalStateException("the poll of " + n + " jobs sent no command");
          }
          per.add(sim.commands.get());
        } catch (Exception | LinkageError e) {
          error = e.toString();
          break;
        }
      }
      if (error != null) {
        rows.add(new Row("polling", "plugin " + name + ": transport commands per poll", "-", "-",
            "-", "constant", "error: " + error.replace('\t', ' ')));
        continue;
      }
      for (int i = 0; i < sizes.length; i++) {
        rows.add(new Row("polling", f("plugin %s: commands per poll of %,d jobs", name, sizes[i]),
            Long.toString(per.get(i)), f("%,d (one per job)", sizes[i]),
            f("%.5f", per.get(i) / (double) sizes[i]), "constant in N (same as 10 jobs)",
            Row.verdict(per.get(i).equals(per.getFirst()))));
      }
    }
    return rows;
  }

  // ---------------------------------------------------------------------------------- ssh ---

  static SshSettings sshSettings() {
    return new SshSettings(env("SSH_HOST"), Integer.parseInt(env("SSH_PORT")), env("SSH_USER"),
        Path.of(env("SSH_IDENTITY")), Path.of(env("SSH_KNOWN_HOSTS")), 4, 0,
        java.time.Duration.ofSeconds(10), java.time.Duration.ofSeconds(15),
        java.time.Duration.ofMinutes(10), java.time.Duration.ofSeconds(60));
  }

  static List<String> freshSsh(SshSettings s, String... command) {
    var argv = new ArrayList<>(List.of("ssh", "-F", "/dev/null", "-p", Integer.toString(s.port()),
        "-i", s.identity().toString(), "-o", "UserKnownHostsFile=" + s.knownHosts(),
        "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes",
        s.user() + "@" + s.host()));
    argv.addAll(List.of(command));
    return argv;
  }

  static int runQuietly(List<String> argv) throws Exception {
    var p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor();
  }

  static List<Row> ssh(int n) throws Exception {
    if (!testbed("SSH")) {
      return List.of(Row.skipped("ssh", "the testbed's sshd is not up (testbed/testbed env)"));
    }
    var s = sshSettings();
    var rows = new ArrayList<Row>();
    long seqNs;
    long parNs;
    org.jobyard.engine.transport.ssh.SshStats seqStats;
    org.jobyard.engine.transport.ssh.SshStats parStats;
    try (var t = SshTransport.open(s)) {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        check(t.run(Command.of("true")).exitCode() == 0, "ssh: true failed through the pool");
      }
      seqNs = System.nanoTime() - t0;
      seqStats = t.stats();
    }
    try (var t = SshTransport.open(s); var pool = Executors.newFixedThreadPool(16)) {
      long t0 = System.nanoTime();
      var futures = new ArrayList<CompletableFuture<Integer>>();
      for (int i = 0; i < n; i++) {
        futures.add(CompletableFuture.supplyAsync(() -> {
          try {
            return t.run(Command.of("true")).exitCode();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }, pool));
      }
      for (var fu : futures) {
        check(fu.get(300, TimeUnit.SECONDS) == 0, "ssh: true failed through the pool");
      }
      parNs = System.nanoTime() - t0;
      parStats = t.stats();
    }
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      check(runQuietly(freshSsh(s, "true")) == 0, "ssh: fresh ssh true failed");
    }
    long freshNs = System.nanoTime() - t0;
    double seqMs = seqNs / 1e6 / n;
    double parMs = parNs / 1e6 / n;
    double freshMs = freshNs / 1e6 / n;
    rows.add(new Row("ssh", f("handshakes per %,d commands, pool, 1 thread", n),
        Long.toString(seqStats.handshakes()), f("%,d (fresh ssh)", n),
        f("%.4f", seqStats.handshakes() / (double) n), "<= pool size (" + s.maxConnections() + ")",
        Row.verdict(seqStats.handshakes() <= s.maxConnections())));
    rows.add(new Row("ssh", f("handshakes per %,d commands, pool, 16 threads", n),
        Long.toString(parStats.handshakes()), f("%,d (fresh ssh)", n),
        f("%.4f", parStats.handshakes() / (double) n), "<= pool size (" + s.maxConnections() + ")",
        Row.verdict(parStats.handshakes() <= s.maxConnections())));
    rows.add(new Row("ssh", "latency per command, pool, 1 thread", f("%.2f ms", seqMs),
        f("%.2f ms (fresh ssh)", freshMs), f("%.3f", seqMs / freshMs), "< 1 (faster)",
        Row.verdict(seqMs < freshMs)));
    rows.add(new Row("ssh", "time per command, pool, 16 threads", f("%.2f ms", parMs),
        f("%.2f ms (fresh ssh)", freshMs), f("%.3f", parMs / freshMs), "-", "-"));
    return rows;
  }

  static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalStateException(message);
    }
  }

  // -------------------------------------------------------------------------------- slurm ---

  static List<Row> slurm(Path work, int n, Path repo) throws Exception {
    if (!Files.isDirectory(Engines.dist().resolve("plugins/slurm"))) {
      return List.of(Row.skipped("slurm", "plugins/slurm is not in the tarball yet"));
    }
    if (!testbed("SLURM") || !testbed("SSH")) {
      return List.of(Row.skipped("slurm", "the testbed's Slurm or sshd is not up"));
    }
    var p = new ProcessBuilder(repo.resolve("testbed/testbed").toString(), "config")
        .redirectErrorStream(false).start();
    var text = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    var yaml = new ObjectMapper(new YAMLFactory());
    var cluster = yaml.readTree(text).path("clusters").path("slurm-ssh");
    if (cluster.isMissingNode()) {
      return List.of(Row.skipped("slurm", "testbed/testbed config has no cluster slurm-ssh"));
    }
    var partition = cluster.path("partition").asText("debug");
    var run = "jyb" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
    var home = work.resolve("slurm");
    var conf = "database: {url: '" + Engines.h2(home) + "'}\n"
        + "clusters:\n  slurm-ssh: " + new ObjectMapper().writeValueAsString(cluster) + "\n";
    var rows = new ArrayList<Row>();
    double engineSeconds;
    long submitCalls;
    String sshStats = "";
    try (var engine = Engines.start(home, conf)) {
      var states = new Engines.States();
      engine.manager().addListener(states);
      long t0 = System.nanoTime();
      var ids = engine.manager().submit("bench", Engines.trivial(run + "-e", n))
          .get(5, TimeUnit.MINUTES);
      boolean ok = states.await(Engines::pastSubmission, n, 600_000);
      engineSeconds = (System.nanoTime() - t0) / 1e9;
      long failed = states.count(s -> s == JobState.FAILED);
      var c = engine.clusters().getFirst();
      submitCalls = c.health().submitCalls();
      if (c.transport() instanceof SshTransport t) {
        sshStats = f(", %d handshake(s)", t.stats().handshakes());
      }
      engine.manager().cancel(ids).get(60, TimeUnit.SECONDS);
      states.await(JobState::isTerminal, n, 60_000);
      check(ok && failed == 0, "slurm: " + states.count(Engines::pastSubmission) + " of " + n
          + " jobs submitted, " + failed + " failed");
    }
    // baseline 1: a plain sbatch loop on the submit host
    var loopName = run + "-loop";
    long t0 = System.nanoTime();
    var loop = new ProcessBuilder("sh", "-c", "i=0; while [ $i -lt " + n + " ]; do sbatch -Q -p "
        + partition + " -J " + loopName + " -o /dev/null --wrap=/bin/true >/dev/null || exit 1;"
        + " i=$((i+1)); done").inheritIO().start();
    int loopExit = loop.waitFor();
    double loopSeconds = (System.nanoTime() - t0) / 1e9;
    runQuietly(List.of("scancel", "--name=" + loopName));
    check(loopExit == 0, "slurm: the sbatch loop failed");
    // baseline 2: one fresh ssh per sbatch
    var s = sshSettings();
    var sshName = run + "-ssh";
    t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      check(runQuietly(freshSsh(s, "sbatch", "-Q", "-p", partition, "-J", sshName, "-o",
          "/dev/null", "--wrap=/bin/true")) == 0, "slurm: ssh sbatch failed");
    }
    double sshSeconds = (System.nanoTime() - t0) / 1e9;
    runQuietly(freshSsh(s, "scancel", "--name=" + sshName));
    double engineRate = n / engineSeconds;
    double loopRate = n / loopSeconds;
    double sshRate = n / sshSeconds;
    rows.add(new Row("slurm", f("submit rate, %,d jobs, engine over pooled SSH (%d submit call(s)%s)",
        n, submitCalls, sshStats), f("%.0f jobs/s (%.2f s)", engineRate, engineSeconds),
        f("%.0f jobs/s (%.2f s, local sbatch loop)", loopRate, loopSeconds),
        f("%.2f", engineRate / loopRate), ">= 0.9x local loop", Row.verdict(engineRate / loopRate
            >= 0.9)));
    rows.add(new Row("slurm", f("submit rate, %,d jobs, engine vs fresh ssh per sbatch", n),
        f("%.0f jobs/s", engineRate), f("%.1f jobs/s (%.2f s, ssh host sbatch)", sshRate,
            sshSeconds), f("%.1f", engineRate / sshRate), ">= 10x fresh ssh",
        Row.verdict(engineRate / sshRate >= 10)));
    return rows;
  }

  // ------------------------------------------------------------------------------- condor ---

  /**
   * N jobs through an engine to the testbed's cluster {@code condor} (local transport to the
   * access point), from {@code submit()} until every job has an HTCondor id; against (1) a loop of
   * {@code condor_submit} of one job each and (2) one {@code condor_submit} of N jobs, in the same
   * run. Every job is removed afterwards.
   */
  static List<Row> condor(Path work, int n, Path repo) throws Exception {
    if (!Files.isDirectory(Engines.dist().resolve("plugins/condor"))) {
      return List.of(Row.skipped("condor", "plugins/condor is not in the tarball yet"));
    }
    if (!testbed("CONDOR")) {
      return List.of(Row.skipped("condor", "the testbed's HTCondor pool is not up"));
    }
    var p = new ProcessBuilder(repo.resolve("testbed/testbed").toString(), "config").start();
    var text = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    var cluster = new ObjectMapper(new YAMLFactory()).readTree(text).path("clusters")
        .path("condor");
    if (cluster.isMissingNode()) {
      return List.of(Row.skipped("condor", "testbed/testbed config has no cluster condor"));
    }
    var bin = cluster.path("bin_dir").asText(null);
    var submit = bin == null ? "condor_submit" : bin + "/condor_submit";
    var rm = bin == null ? "condor_rm" : bin + "/condor_rm";
    var run = "jyb" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
    var home = work.resolve("condor");
    var conf = "database: {url: '" + Engines.h2(home) + "'}\n"
        + "clusters:\n  condor: " + new ObjectMapper().writeValueAsString(cluster) + "\n";
    Round cold;
    Round warm;
    try (var engine = Engines.start(home, conf)) {
      // the engine's first submission also pays its one-off costs (class loading, JIT, the
      // store's first statements); the goal compares the second, as a running engine submits
      cold = condorRound(engine, run + "-c", n);
      warm = condorRound(engine, run + "-e", n);
    }
    // the baselines' jobs: /bin/true, the pool's defaults, tagged to be removed afterwards
    var description = "executable = /bin/true\nuniverse = vanilla\n+JobyardBench = \"" + run
        + "\"\nlog = /dev/null\n";
    var loop = new ProcessBuilder("sh", "-c", "i=0; while [ $i -lt " + n + " ]; do printf '%s' \"$1\""
        + " | \"$2\" -terse - >/dev/null || exit 1; i=$((i+1)); done", "sh",
        description + "queue 1\n", submit).inheritIO();
    long t0 = System.nanoTime();
    int loopExit = loop.start().waitFor();
    double loopSeconds = (System.nanoTime() - t0) / 1e9;
    var bulk = new ProcessBuilder("sh", "-c", "printf '%s' \"$1\" | \"$2\" -terse - >/dev/null",
        "sh", description + "queue " + n + "\n", submit).inheritIO();
    t0 = System.nanoTime();
    int bulkExit = bulk.start().waitFor();
    double bulkSeconds = (System.nanoTime() - t0) / 1e9;
    runQuietly(List.of(rm, "-constraint", "JobyardBench == \"" + run + "\""));
    check(loopExit == 0 && bulkExit == 0, "condor: a baseline condor_submit failed");
    double engineRate = n / warm.seconds();
    double coldRate = n / cold.seconds();
    double loopRate = n / loopSeconds;
    double bulkRate = n / bulkSeconds;
    var engineText = f("%.0f jobs/s (%.2f s)", engineRate, warm.seconds());
    var bulkText = f("%.0f jobs/s (%.2f s, one condor_submit of %,d jobs)", bulkRate,
        bulkSeconds, n);
    return List.of(
        new Row("condor", f("submit rate, %,d jobs, engine, local access point, its second "
            + "submission (%d submit call(s))", n, warm.submitCalls()), engineText, bulkText,
            f("%.2f", engineRate / bulkRate), ">= 0.9x one condor_submit",
            Row.verdict(engineRate / bulkRate >= 0.9)),
        new Row("condor", f("submit rate, %,d jobs, engine's first submission after its start "
            + "(%d submit call(s))", n, cold.submitCalls()), f("%.0f jobs/s (%.2f s)", coldRate,
            cold.seconds()), bulkText, f("%.2f", coldRate / bulkRate), "-", "-"),
        new Row("condor", f("submit rate, %,d jobs, engine vs a condor_submit per job", n),
            engineText, f("%.1f jobs/s (%.2f s, condor_submit loop)", loopRate, loopSeconds),
            f("%.1f", engineRate / loopRate), "faster than the loop",
            Row.verdict(engineRate > loopRate)));
  }

  /** One timed submission through a running engine: seconds and submit calls it took. */
  record Round(double seconds, long submitCalls) {}

  /**
   * N jobs named {@code prefix}N submitted through the engine, timed from {@code submit()} until
   * every one has an HTCondor id; then cancelled, so the next round starts from an idle engine.
   */
  static Round condorRound(Engine engine, String prefix, int n) throws Exception {
    var states = new Engines.States();
    engine.manager().addListener(states);
    var cluster = engine.clusters().getFirst();
    long callsBefore = cluster.health().submitCalls();
    try {
      long t0 = System.nanoTime();
      var ids = engine.manager().submit("bench", Engines.trivial(prefix, n))
          .get(5, TimeUnit.MINUTES);
      boolean ok = states.await(Engines::pastSubmission, n, 600_000);

      double seconds = (System.nanoTime() - t0) / 1e9;
      long failed = states.count(s -> s == JobState.FAILED);
      long calls = cluster.health().submitCalls() - callsBefore;
      engine.manager().cancel(ids).get(60, TimeUnit.SECONDS);
      states.await(JobState::isTerminal, n, 120_000);
      check(ok && failed == 0, "condor: " + states.count(Engines::pastSubmission) + " of " + n
          + " jobs submitted, " + failed + " failed");
      return new Round(seconds, calls);
    } finally {
      engine.manager().removeListener(states);
    }
  }

  // ------------------------------------------------------------------- child JVM: scale ---

  static String scaleConfig(Path dir, String url, String user, String password) {
    var db = url == null ? "{url: '" + Engines.h2(dir) + "'}"
        : "{url: '" + url + "', user: '" + user + "', password: '" + password + "'}";
    return "database: " + db + "\nengine: {poll_interval: 1s}\n"
        + "clusters:\n  fake: {backend: bench-fake, run_ms: 36000000}\n";
  }

  /**
   * {@code scale-fill DIR N [jdbcUrl user password]}: a cold engine start on the empty store (the
   * baseline), then N jobs submitted and running. Prints "EMPTY start-ns heap-bytes" and a row.
   */
  static void scaleFill(Path dir, int n, String url, String user, String password)
      throws Exception {
    var label = url == null ? "H2" : "PostgreSQL";
    var yaml = scaleConfig(dir, url, user, password);
    long emptyStart = System.nanoTime();
    try (var engine = Engines.start(dir.resolve("home"), yaml)) {
      emptyStart = System.nanoTime() - emptyStart;
      long emptyHeap = Engines.usedHeapAfterGc();
      System.out.println("EMPTY\t" + emptyStart + "\t" + emptyHeap);
      var states = new Engines.States();
      engine.manager().addListener(states);
      long t0 = System.nanoTime();
      engine.manager().submit("bench", Engines.trivial("s", n)).get(10, TimeUnit.MINUTES);
      check(states.await(s -> s == JobState.RUNNING, n, 600_000), "scale: jobs did not start");
      double fill = (System.nanoTime() - t0) / 1e9;
      System.out.println(new Row("scale", f("%s: %,d jobs submitted and running, zero-cost "
          + "backend", label, n), f("%.1f s (%.0f jobs/s)", fill, n / fill), "-", "-", "-", "-")
          .line());
    }
  }

  /**
   * {@code scale DIR N EMPTY_START_NS EMPTY_HEAP [jdbcUrl user password]}: a cold restart on
   * the store of N live jobs: start to ready, heap, cost of a poll cycle.
   */
  static void scale(Path dir, int n, long emptyStart, long emptyHeap, String url, String user,
      String password) throws Exception {
    var label = url == null ? "H2" : "PostgreSQL";
    var yaml = scaleConfig(dir, url, user, password);
    // restart on the full store: start to ready, heap, cost of a poll cycle
    FakeBackend.reset();
    long t0 = System.nanoTime();
    try (Engine engine = Engines.start(dir.resolve("home"), yaml)) {
      long ready = System.nanoTime() - t0;
      long heap = Engines.usedHeapAfterGc();
      // poll cycles: process CPU over a window, divided by the jobs polled / N
      Thread.sleep(1_500);
      long live = engine.manager().stats().liveJobs();
      check(live == n, "scale: " + live + " live jobs recovered, expected " + n);
      long calls0 = FakeBackend.POLL_CALLS.get();
      long refs0 = FakeBackend.POLLED_REFS.get();
      long cpu0 = Engines.processCpuNanos();
      long w0 = System.nanoTime();
      Thread.sleep(Long.getLong("jobyard.bench.window", 10_000));
      long cpu = Engines.processCpuNanos() - cpu0;
      long window = System.nanoTime() - w0;
      double cycles = (FakeBackend.POLLED_REFS.get() - refs0) / (double) n;
      long calls = FakeBackend.POLL_CALLS.get() - calls0;
      double cpuPerCycleMs = cycles == 0 ? Double.NaN : cpu / 1e6 / cycles;
      var mb = 1024.0 * 1024.0;
      System.out.println(new Row("scale", f("%s: start to ready with %,d live jobs", label, n),
          f("%.2f s", ready / 1e9), f("%.2f s (empty store, cold JVM too)", emptyStart / 1e9),
          f("%.1f", ready / (double) emptyStart), "<= 2 s", Row.verdict(ready <= 2e9)).line());
      System.out.println(new Row("scale", f("%s: heap after GC with %,d live jobs", label, n),
          f("%.0f MB", heap / mb), f("%.0f MB (empty store)", emptyHeap / mb),
          f("%.1f", heap / (double) emptyHeap), "<= 256 MB", Row.verdict(heap <= 256 * mb))
          .line());
      System.out.println(new Row("scale", f("%s: CPU per poll cycle of %,d jobs (%.1f cycles, %d"
          + " calls in %.0f s)", label, n, cycles, calls, window / 1e9),
          f("%.0f ms", cpuPerCycleMs), "5000 ms (default poll interval)",
          f("%.3f", cpuPerCycleMs / 5000), "-", "-").line());
      check(engine.store().countByState().getOrDefault(JobState.RUNNING, 0L) == n,
          "scale: store lost jobs");
    }
  }

  // ------------------------------------------------------------------- child JVM: crash ---

  static String crashConfig(Path dir, boolean endAll) {
    return "database: {url: '" + Engines.h2(dir) + "'}\nengine: {poll_interval: 1s}\n"
        + "clusters:\n  fake: {backend: bench-fake, run_ms: 36000000, end_all: " + endAll + "}\n";
  }

  /**
   * {@code crash-load DIR N kill|stop [SETTLE_MS]}: N jobs in flight (every one acknowledged and
   * submitted), then waits SETTLE_MS and prints LOADED to be killed, or stops in order.
   */
  static void crashLoad(Path dir, int n, boolean stop, long settle) throws Exception {
    var engine = Engines.start(dir.resolve("home"), crashConfig(dir, false));
    var states = new Engines.States();
    engine.manager().addListener(states);
    engine.manager().submit("bench", Engines.trivial("c", n)).get(10, TimeUnit.MINUTES);
    check(states.await(Engines::pastSubmission, n, 600_000), "crash: jobs not submitted");
    if (stop) {
      engine.close();
      System.out.println("LOADED");
      System.out.flush();
      return;
    }
    Thread.sleep(settle);
    System.out.println("LOADED");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE); // SIGKILL comes here
  }

  /** {@code crash-recover DIR N}: restarts on the store; prints timings since JVM start. */
  static void crashRecover(Path dir, int n) throws Exception {
    long jvmStart = java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
    FakeBackend.reset();
    long t0 = System.nanoTime();
    try (var engine = Engines.start(dir.resolve("home"), crashConfig(dir, true))) {
      long ready = System.nanoTime() - t0;
      var store = engine.store();
      // what survived the kill is what there is to reconcile
      long stored = store.countByState().values().stream().mapToLong(Long::longValue).sum();
      long end = System.currentTimeMillis() + 600_000;
      long done;
      while (true) {
        var counts = store.countByState();
        done = counts.getOrDefault(JobState.SUCCEEDED, 0L);
        if (done >= stored || System.currentTimeMillis() > end) {
          break;
        }
        Thread.sleep(20);
      }
      long reconciled = System.nanoTime() - t0;
      long sinceJvm = System.currentTimeMillis() - jvmStart;
      long total = store.find(JobQuery.all()).size();
      System.out.println(f("RECOVERED\t%d\t%d\t%d\t%d\t%d\t%d\t%d", ready, reconciled, sinceJvm,
          done, total, FakeBackend.SUBMITTED.get(), FakeBackend.POLL_CALLS.get()));
    }
  }

  /** An engine whose cluster {@code local} (the tarball's plugin) runs jobs under DIR/jobs. */
  static String localConfig(Path dir, int slots) {
    return "database: {url: '" + Engines.h2(dir) + "'}\n"
        + "engine: {poll_interval: 1s}\n"
        + "clusters:\n  local: {backend: local, slots: " + slots + ", workdir: '"
        + dir.resolve("jobs") + "'}\n";
  }

  /**
   * {@code local-crash-load DIR N SLOTS}: N short local jobs, each appending its number to
   * DIR/runs.log; prints LOADED once a third of them succeeded, then waits for its SIGKILL.
   */
  static void localCrashLoad(Path dir, int n, int slots) throws Exception {
    var engine = Engines.start(dir.resolve("home"), localConfig(dir, slots));
    var states = new Engines.States();
    engine.manager().addListener(states);
    var log = dir.resolve("runs.log").toString();
    var specs = new java.util.ArrayList<org.jobyard.api.JobSpec>(n);
    for (int i = 0; i < n; i++) {
      specs.add(org.jobyard.api.JobSpec.of("k" + i, "sh", "-c", "echo \"$0\" >> \"$1\"",
          Integer.toString(i), log));
    }
    engine.manager().submit("bench", specs).get(10, TimeUnit.MINUTES);
    check(states.await(s -> s == JobState.SUCCEEDED, n / 3, 600_000),
        "local crash: a third of the jobs did not succeed");
    System.out.println("LOADED");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE); // SIGKILL comes here, jobs in every state
  }

  /**
   * {@code local-crash-recover DIR N SLOTS}: restarts on the store and waits until every job
   * ended; prints {@code RECOVERED <succeeded> <stored> <lines in runs.log> <distinct lines>}.
   */
  static void localCrashRecover(Path dir, int n, int slots) throws Exception {
    try (var engine = Engines.start(dir.resolve("home"), localConfig(dir, slots))) {
      var store = engine.store();
      long end = System.currentTimeMillis() + 600_000;
      long done;
      while (true) {
        done = store.countByState().getOrDefault(JobState.SUCCEEDED, 0L);
        if (done >= n || System.currentTimeMillis() > end) {
          break;
        }
        Thread.sleep(50);
      }
      long stored = store.find(JobQuery.all()).size();
      var lines = java.nio.file.Files.readAllLines(dir.resolve("runs.log"));
      System.out.println(f("RECOVERED\t%d\t%d\t%d\t%d", done, stored, lines.size(),
          new java.util.HashSet<>(lines).size()));
    }
  }

  public static void main(String[] args) throws Exception {
    var dir = Path.of(args[1]);
    int n = Integer.parseInt(args[2]);
    switch (args[0]) {
      case "scale-fill" -> scaleFill(dir, n, args.length > 3 ? args[3] : null,
          args.length > 4 ? args[4] : null, args.length > 5 ? args[5] : null);
      case "scale" -> scale(dir, n, Long.parseLong(args[3]), Long.parseLong(args[4]),
          args.length > 5 ? args[5] : null, args.length > 6 ? args[6] : null,
          args.length > 7 ? args[7] : null);
      case "crash-load" -> crashLoad(dir, n, args[3].equals("stop"),
          args.length > 4 ? Long.parseLong(args[4]) : 0);
      case "crash-recover" -> crashRecover(dir, n);
      case "local-crash-load" -> localCrashLoad(dir, n, Integer.parseInt(args[3]));
      case "local-crash-recover" -> localCrashRecover(dir, n, Integer.parseInt(args[3]));
      default -> throw new IllegalArgumentException(args[0]);
    }
    System.exit(0);
  }
}
