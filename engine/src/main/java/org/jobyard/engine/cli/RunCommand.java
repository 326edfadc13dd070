package org.jobyard.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.engine.Engine;
import org.jobyard.engine.config.ConfigException;
import org.jobyard.engine.manager.JobEvent;
import org.jobyard.engine.manager.RejectedException;
import org.jobyard.engine.spec.JobFileException;
import org.jobyard.engine.spec.JobFileReader;
import org.jobyard.engine.store.JobQuery;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jobyard run}: the main job, with an embedded engine. */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {
        "Runs the jobs in FILE(s) with an embedded engine, shows progress, waits for all of them "
            + "and prints a summary.",
        "",
        "A file (YAML or JSON) holds one job, a list of jobs, or a sweep:",
        "  name: hello",
        "  executable: /bin/echo",
        "  arguments: [hello, world]",
        "  environment: {GREETING: hi}",
        "  stdout: hello.out",
        "  resources: {cores: 1, memory: 1GB, walltime: 10m}",
        "  retries: 1",
        // $${...} keeps picocli from expanding ${...} itself (it printed square-null)
        "A sweep expands $${x} in a job template for every value:",
        "  sweep: {n: [1, 2, 3]}",
        "  job: {name: 'square-$${n}', executable: sh, arguments: [-c, 'echo $(($${n}*$${n}))']}",
        "",
        "Relative paths (directory, stdout, stderr, inputs, outputs) are taken from the current "
            + "folder. Jobs run on the clusters of the configuration (conf/jobyard.yaml; with "
            + "none, as local processes). The file is checked whole first: any problem rejects "
            + "it, naming the file, the job and the field, and nothing runs."},
    footer = {"", "Exit status: 0 all succeeded; 1 some job failed or was cancelled; 2 invalid "
        + "job file or configuration; 3 the engine failed.",
        "", "Examples:", "  jobyard run examples/hello.yaml",
        "  jobyard run --config conf/slurm.yaml -o json sweep.yaml",
        "  jobyard run --report run.html sweep.yaml",
        "  jobyard run --trace trace.tsv sweep.yaml"})
final class RunCommand implements java.util.concurrent.Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "FILE", arity = "1..*", description = "job files (.yaml, .yml, .json)")
  List<Path> files;

  @Option(names = "--config", paramLabel = "FILE",
      description = "engine configuration (default: JOBYARD_CONFIG, "
          + "~/.config/jobyard/jobyard.yaml, conf/jobyard.yaml of the installation; "
          + "'jobyard config' shows which)")
  Path configFile;

  @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
      description = "summary format: table or json (default: ${DEFAULT-VALUE})")
  String output;

  @Option(names = "--progress", paramLabel = "MODE", defaultValue = "auto",
      description = "auto (a bar on a terminal, lines otherwise), bar, lines, or none")
  String progress;

  @Option(names = "--timeout", paramLabel = "DURATION",
      description = "give up waiting after this long (e.g. 30m); jobs keep running")
  String timeout;

  @Option(names = "--report", paramLabel = "FILE.html",
      description = "also write a self-contained HTML report of the run: counts, a timeline of "
          + "every job through its states, durations, exit codes and reasons")
  Path report;

  @Option(names = "--trace", paramLabel = "FILE",
      description = "also write a trace of the run, one tab-separated line per job and attempt: "
          + "id, name, attempt, cluster, native id, state, submitted, started, ended, exit "
          + "code, wall seconds, reason (as Nextflow's trace file)")
  Path trace;

  @Override
  public Integer call() {
    var out = spec.commandLine().getOut();
    var err = spec.commandLine().getErr();
    if (!output.equals("table") && !output.equals("json")) {
      err.println("jobyard run: -o must be table or json, got '" + output + "'");
      return Main.BAD_INPUT;
    }
    Duration limit = null;
    if (timeout != null) {
      limit = org.jobyard.api.Durations.parse(timeout).orElse(null);
      if (limit == null) {
        err.println("jobyard run: --timeout must be a duration like 90s or 30m, got '" + timeout
            + "'");
        return Main.BAD_INPUT;
      }
    }
    for (var file : java.util.Arrays.asList(report, trace)) {
      var folder = file == null ? null : file.toAbsolutePath().getParent();
      if (file != null && (folder == null || !java.nio.file.Files.isDirectory(folder))) {
        err.println("jobyard run: --" + (file == report ? "report" : "trace") + ": folder "
            + folder + " does not exist; create it or name a file in an existing folder");
        return Main.BAD_INPUT;
      }
    }
    // Read and check every file before the engine starts: a bad file runs nothing.
    var specs = new ArrayList<JobSpec>();
    var problems = new ArrayList<String>();
    for (var f : files) {
      try {
        JobFileReader.read(f).forEach(s -> specs.add(Paths.resolve(s, Path.of(""))));
      } catch (JobFileException e) {
        problems.addAll(e.problems());
      }
    }
    if (!problems.isEmpty()) {
      err.println("jobyard run: rejected, nothing was run:");
      problems.forEach(p -> err.println("  " + p));
      return Main.BAD_INPUT;
    }
    Engine engine;
    try {
      engine = Engine.create(Main.config(configFile)).start();
    } catch (ConfigException e) {
      err.println("jobyard run: configuration: " + e.getMessage());
      return Main.BAD_INPUT;
    } catch (RuntimeException e) {
      err.println("jobyard run: the engine did not start: " + rootMessage(e));
      Main.debug(err, e);
      return Main.ENGINE_FAILED;
    }
    var interrupted = new AtomicBoolean();
    var hook = Thread.ofPlatform().unstarted(() -> {
      interrupted.set(true);
      engine.close();
    });
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return runJobs(engine, specs, out, err, limit);
    } finally {
      if (!interrupted.get()) {
        Runtime.getRuntime().removeShutdownHook(hook);
        engine.close();
      }
    }
  }

  private int runJobs(Engine engine, List<JobSpec> specs, PrintWriter out, PrintWriter err,
      Duration limit) {
    var started = System.nanoTime();
    var startedAt = java.time.Instant.now();
    var tracker = new Tracker();
    engine.manager().addListener(tracker);
    List<String> ids;
    try {
      ids = engine.manager().submit(System.getProperty("user.name"), specs)
          .get(5, TimeUnit.MINUTES);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RejectedException r) {
        err.println("jobyard run: rejected, nothing was run: " + r.getMessage());
        return Main.BAD_INPUT;
      }
      err.println("jobyard run: submission failed: " + rootMessage(e));
      return Main.ENGINE_FAILED;
    } catch (Exception e) {
      err.println("jobyard run: submission failed: " + rootMessage(e));
      return Main.ENGINE_FAILED;
    }
    tracker.expect(ids);
    var display = Progress.choose(progress, err, ids.size());
    try {
      while (!tracker.done.await(display.interval().toMillis(), TimeUnit.MILLISECONDS)) {
        display.update(tracker.counts(), System.nanoTime() - started);
        if (engine.fatal().isDone()) {
          err.println("jobyard run: the engine failed: " + engine.fatal().getNow(""));
          return Main.ENGINE_FAILED;
        }
        if (limit != null && System.nanoTime() - started > limit.toNanos()) {
          display.finish(tracker.counts(), System.nanoTime() - started);
          writeReport(engine, ids, startedAt, tracker, err);
          writeTrace(engine, ids, err);
          err.println("jobyard run: gave up waiting after " + timeout + "; unfinished jobs keep "
              + "running and are picked up by the next engine start");
          return Main.JOBS_FAILED;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Main.ENGINE_FAILED;
    }
    var elapsed = System.nanoTime() - started;
    display.finish(tracker.counts(), elapsed);
    var rows = engine.store().find(JobQuery.byIds(ids));
    var summary = Summary.of(rows, Duration.ofNanos(elapsed));
    writeReport(engine, ids, startedAt, tracker, err);
    writeTrace(engine, ids, err);
    if (output.equals("json")) {
      try {
        out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .writeValueAsString(summary));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    } else {
      summary.print(out);
    }
    out.flush();
    return summary.failed() + summary.cancelled() > 0 ? Main.JOBS_FAILED : Main.OK;
  }

  /** Writes the --report file, if asked; a report that cannot be written is said, not fatal. */
  private void writeReport(Engine engine, List<String> ids, java.time.Instant startedAt,
      Tracker tracker, PrintWriter err) {
    if (report == null) {
      return;
    }
    try {
      RunReport.write(report, files.stream().map(Path::toString).toList(), startedAt,
          java.time.Instant.now(), engine.store().find(JobQuery.byIds(ids)), tracker.steps());
      err.println("jobyard run: report written to " + report);
    } catch (java.io.IOException e) {
      err.println("jobyard run: cannot write the report " + report + ": " + e.getMessage());
    }
  }

  /** Writes the --trace file, if asked; one that cannot be written is said, not fatal. */
  private void writeTrace(Engine engine, List<String> ids, PrintWriter err) {
    if (trace == null) {
      return;
    }
    var rows = new ArrayList<List<String>>();
    for (var job : engine.store().find(JobQuery.byIds(ids))) {
      var node = Trace.JSON.createObjectNode().put("id", job.id()).put("name", job.name())
          .put("state", job.state().name()).put("reason", job.reason());
      node.set("exit_code", Trace.JSON.valueToTree(job.exitCode()));
      rows.addAll(Trace.rows(node, Trace.JSON.valueToTree(engine.store().attempts(job.id())
          .stream().map(org.jobyard.engine.control.AttemptView::of).toList())));
    }
    try {
      Trace.write(trace, rows);
      err.println("jobyard run: trace written to " + trace);
    } catch (java.io.IOException e) {
      err.println("jobyard run: cannot write the trace " + trace + ": " + e.getMessage());
    }
  }

  /** The deepest cause's message, or the store's own advice when the store refused to open. */
  static String rootMessage(Throwable e) {
    var t = e;
    while (t.getCause() != null && t.getCause() != t) {
      if (t instanceof org.jobyard.engine.store.StoreException) {
        return t.getMessage();
      }
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }

  /** Counts this run's jobs by state from the manager's events. */
  static final class Tracker implements org.jobyard.engine.manager.JobListener {
    private final Map<String, JobState> states = new ConcurrentHashMap<>();
    private final Map<String, JobState> early = new ConcurrentHashMap<>();
    /** Every state each job entered, with when, for the report. */
    private final Map<String, List<RunReport.Step>> steps = new ConcurrentHashMap<>();
    private volatile java.util.Set<String> expected;
    private final java.util.concurrent.atomic.AtomicInteger finished =
        new java.util.concurrent.atomic.AtomicInteger();
    final CountDownLatch done = new CountDownLatch(1);

    @Override
    public void changed(JobEvent e) {
      steps.computeIfAbsent(e.jobId(), k -> java.util.Collections.synchronizedList(
          new ArrayList<>())).add(new RunReport.Step(e.to(), java.time.Instant.now()));
      var exp = expected;
      if (exp == null) {
        early.put(e.jobId(), e.to()); // events that beat the submit reply
        return;
      }
      if (exp.contains(e.jobId())) {
        record(e.jobId(), e.to());
      }
    }

    void expect(List<String> ids) {
      ids.forEach(id -> states.put(id, JobState.QUEUED));
      expected = java.util.Set.copyOf(ids);
      early.forEach((id, s) -> {
        if (expected.contains(id)) {
          record(id, s);
        }
      });
      if (finished.get() == expected.size()) {
        done.countDown();
      }
    }

    private synchronized void record(String id, JobState to) {
      var before = states.get(id);
      if (before != null && before.isTerminal()) {
        return; // a late, older event
      }
      states.put(id, to);
      if (to.isTerminal() && (before == null || !before.isTerminal())) {
        if (finished.incrementAndGet() == expected.size()) {
          done.countDown();
        }
      }
    }

    Map<String, List<RunReport.Step>> steps() {
      var out = new LinkedHashMap<String, List<RunReport.Step>>();
      steps.forEach((id, list) -> {
        synchronized (list) {
          out.put(id, List.copyOf(list));
        }
      });
      return out;
    }

    Map<JobState, Integer> counts() {
      var counts = new LinkedHashMap<JobState, Integer>();
      for (var s : JobState.values()) {
        counts.put(s, 0);
      }
      states.values().forEach(s -> counts.merge(s, 1, Integer::sum));
      return counts;
    }
  }
}
