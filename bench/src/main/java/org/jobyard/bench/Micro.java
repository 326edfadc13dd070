package org.jobyard.bench;

import static org.jobyard.bench.Row.f;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.JobState;
import org.jobyard.api.ShellQuoting;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.spec.JobFileReader;
import org.jobyard.engine.store.Change;
import org.jobyard.engine.store.Database;
import org.jobyard.engine.store.JobRow;
import org.jobyard.engine.store.JobStore;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * JMH micro benchmarks, each next to its baseline: the store's group commit of N job updates
 * against one transaction per update; reading a 10,000-job sweep against Jackson's bare YAML
 * parse of the expanded list; quoting arguments for the shell against copying them.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class Micro {

  /** The store on an H2 file, as the engine uses it, with N jobs in it. */
  @State(Scope.Benchmark)
  public static class Store {
    @Param({"1000"})
    public int n;
    Path dir;
    Database db;
    JobStore store;
    List<Change> updates;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
      dir = Files.createTempDirectory("jobyard-bench-store");
      db = new Database(new EngineConfig.Database("jdbc:h2:file:" + dir.resolve("db"), "jobyard",
          "", 2));
      store = new JobStore(db);
      var now = Instant.now();
      var inserts = new ArrayList<Change>();
      updates = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        var row = new JobRow("jy-bench" + i, i + 1, "j" + i, "bench", null,
            "{\"name\":\"j\",\"executable\":\"/bin/true\"}", JobRow.Desired.RUN, JobState.QUEUED,
            0, 0, 0, null, null, now, now);
        inserts.add(new Change.InsertJob(row));
        updates.add(new Change.UpdateJob(new JobRow(row.id(), row.seq(), row.name(), row.owner(),
            null, row.spec(), JobRow.Desired.RUN, JobState.RUNNING, 1, 0, 0, null, "running",
            now, now)));
      }
      store.apply(inserts);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
      db.close();
      Suite.deleteTree(dir);
    }
  }

  @Benchmark
  public void groupCommit(Store s) {
    s.store.apply(s.updates);
  }

  @Benchmark
  public void commitPerChange(Store s) {
    for (var c : s.updates) {
      s.store.apply(List.of(c));
    }
  }

  @State(Scope.Benchmark)
  public static class Files10k {
    String sweep;
    String expanded;

    @Setup(Level.Trial)
    public void setUp() {
      sweep = "sweep: {n: {from: 1, to: 100}, mode: [a, b, c, d, e, f, g, h, i, j], seed: [1, 2,"
          + " 3, 4, 5, 6, 7, 8, 9, 10]}\n"
          + "job: {name: 'fit-${n}-${mode}-${seed}', executable: /usr/bin/env, arguments: [python3,"
          + " fit.py, '${n}', '--mode=${mode}', '--seed=${seed}'], resources: {cores: 1, walltime:"
          + " 10m}}\n";
      var sb = new StringBuilder("jobs:\n");
      for (int n = 1; n <= 100; n++) {
        for (var mode : "abcdefghij".split("")) {
          for (int seed = 1; seed <= 10; seed++) {
            sb.append("- {name: 'fit-").append(n).append('-').append(mode).append('-')
                .append(seed).append("', executable: /usr/bin/env, arguments: [python3, fit.py, '")
                .append(n).append("', '--mode=").append(mode).append("', '--seed=").append(seed)
                .append("'], resources: {cores: 1, walltime: 10m}}\n");
          }
        }
      }
      expanded = sb.toString();
    }
  }

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Benchmark
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  public Object readSweep10k(Files10k f) throws Exception {
    var specs = JobFileReader.parse("bench.yaml", f.sweep, false);
    if (specs.size() != 10_000) {
      throw new IllegalStateException("expected 10000 jobs, got " + specs.size());
    }
    return specs;
  }

  @Benchmark
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  public Object yamlTreeOfExpanded10k(Files10k f) throws Exception {
    return YAML.readTree(f.expanded);
  }

  @State(Scope.Benchmark)
  public static class Args {
    List<String> words = new ArrayList<>();

    @Setup(Level.Trial)
    public void setUp() {
      for (int i = 0; i < 1000; i++) {
        words.add(switch (i % 4) {
          case 0 -> "plain-" + i;
          case 1 -> "a b.dat";
          case 2 -> "it's $(rm -rf /) `x`";
          default -> "--input=/data/run" + i + "/file.root";
        });
      }
    }
  }

  @Benchmark
  public void quote1000(Args a, Blackhole bh) {
    for (var w : a.words) {
      bh.consume(ShellQuoting.quote(w));
    }
  }

  @Benchmark
  public void copy1000(Args a, Blackhole bh) {
    for (var w : a.words) {
      bh.consume(new StringBuilder(w.length() + 2).append('\'').append(w).append('\'')
          .toString());
    }
  }

  public static void main(String[] args) throws Exception {
    boolean small = args.length > 0 && args[0].equals("short");
    var opts = new OptionsBuilder().include(Micro.class.getName() + "\\.")
        .forks(1).warmupIterations(small ? 1 : 3)
        .warmupTime(TimeValue.milliseconds(small ? 500 : 1000))
        .measurementIterations(small ? 2 : 5)
        .measurementTime(TimeValue.milliseconds(small ? 500 : 1000))
        .jvmArgs("-Xmx512m", "-XX:+UseSerialGC").shouldFailOnError(true).build();
    Map<String, RunResult> byName = new HashMap<>();
    for (var r : new Runner(opts).run()) {
      var label = r.getParams().getBenchmark();
      byName.put(label.substring(label.lastIndexOf('.') + 1), r);
    }
    pair(byName, "groupCommit", "commitPerChange", "store: 1,000 job updates, one transaction",
        "one transaction per update", "<= 1 (group commit pays)");
    pair(byName, "readSweep10k", "yamlTreeOfExpanded10k",
        "job file: read and check a 10,000-job sweep", "Jackson YAML tree of the expanded list",
        "-");
    pair(byName, "quote1000", "copy1000", "ShellQuoting.quote of 1,000 arguments",
        "copying them between quotes", "-");
    System.exit(0);
  }

  static void pair(Map<String, RunResult> results, String a, String b, String figure,
      String baseline, String goal) {
    var ra = results.get(a).getPrimaryResult();
    var rb = results.get(b).getPrimaryResult();
    double ratio = ra.getScore() / rb.getScore();
    System.out.println(new Row("micro", figure, f("%.3f %s ±%.3f", ra.getScore(),
        ra.getScoreUnit(), ra.getScoreError()), f("%.3f %s (%s)", rb.getScore(),
        rb.getScoreUnit(), baseline), f("%.3f", ratio), goal,
        goal.equals("-") ? "-" : Row.verdict(ratio <= 1)).line());
  }
}
