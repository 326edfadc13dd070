package org.jobyard.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: two engines from the tarball, each with its own home, share one PostgreSQL schema
 * (fresh for the test) and one local job folder. One is killed with SIGKILL while its jobs run:
 * the other takes them over once its lease runs out, and every job runs exactly once (each job
 * appends a line to a marker file of its own).
 */
class TwoEnginesIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final int JOBS_EACH = 100;

  @TempDir
  Path tmp;
  final List<Process> engines = new ArrayList<>();

  @AfterEach
  void stopEngines() throws Exception {
    for (var e : engines) {
      if (e.isAlive()) {
        e.destroy();
        e.waitFor(60, TimeUnit.SECONDS);
      }
    }
  }

  Tarball install(String name, String url, Path jobFolders) throws Exception {
    return install(name, url, jobFolders, "");
  }

  /** {@code clusterSettings}: more settings of the local cluster, each with a leading comma. */
  Tarball install(String name, String url, Path jobFolders, String clusterSettings)
      throws Exception {
    var t = Tarball.unpack(Files.createDirectory(tmp.resolve(name)));
    Files.writeString(t.home.resolve("conf/jobyard.yaml"), """
        database: {url: "%s", user: "%s", password: "%s", lease: 10s}
        engine: {poll_interval: 1s}
        clusters:
          local: {backend: local, slots: 16, workdir: "%s"%s}
        """.formatted(url, Testbed.get("PG_USER"), Testbed.get("PG_PASSWORD"), jobFolders,
        clusterSettings));
    return t;
  }

  Process start(Tarball t, String name) throws Exception {
    var url = t.home.resolve("var/run/engine.url");
    var pb = new ProcessBuilder(t.home.resolve("bin/jobyard").toString(), "engine")
        .directory(tmp.toFile())
        .redirectOutput(ProcessBuilder.Redirect.appendTo(tmp.resolve(name + ".out").toFile()))
        .redirectErrorStream(true);
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    var p = pb.start();
    engines.add(p);
    await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(url) || !p.isAlive());
    assertThat(p.isAlive()).as("engine %s started; its output:\n%s", name, output(name)).isTrue();
    return p;
  }

  String output(String name) throws Exception {
    var f = tmp.resolve(name + ".out");
    return Files.exists(f) ? Files.readString(f) : "";
  }

  static Map<String, String> states(Tarball t) throws Exception {
    var base = Files.readString(t.home.resolve("var/run/engine.url")).strip();
    var token = Files.readString(t.home.resolve("var/run/token")).strip();
    var request = HttpRequest.newBuilder(URI.create((base.endsWith("/") ? base : base + "/")
            + "api/v1/jobs")).header("Authorization", "Bearer " + token)
        .timeout(Duration.ofSeconds(60)).GET().build();
    var answer = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    var out = new TreeMap<String, String>();
    for (JsonNode j : JSON.readTree(answer.body()).path("jobs")) {
      out.put(j.path("name").asText(), j.path("state").asText());
    }
    return out;
  }

  static long markers(Path ran, String prefix) throws Exception {
    try (Stream<Path> s = Files.list(ran)) {
      return s.filter(p -> p.getFileName().toString().startsWith(prefix)).count();
    }
  }

  @Test
  void theSurvivorOfASigkillFinishesTheDeadEnginesJobsAndEveryJobRunsOnce() throws Exception {
    var url = Testbed.freshPostgresSchema();
    var folders = Files.createDirectory(tmp.resolve("jobs"));
    var ran = Files.createDirectory(tmp.resolve("ran"));
    var a = install("a", url, folders);
    var b = install("b", url, folders);
    var engineA = start(a, "a");
    start(b, "b");
    for (var name : List.of("a", "b")) {
      Files.writeString(tmp.resolve(name + ".yaml"), """
          sweep: {n: {from: 1, to: %d}}
          job:
            name: '%s-${n}'
            executable: /bin/sh
            arguments: [-c, 'sleep 0.$((5 + $1 %% 5)); echo run >> "$2/%s-$1"', sh, '${n}', '%s']
          """.formatted(JOBS_EACH, name, name, ran));
    }
    // a's jobs last, so that it is killed with most of them still to run
    for (var pair : List.of(Map.entry(b, "b"), Map.entry(a, "a"))) {
      var submitted = pair.getKey().run(tmp, Duration.ofMinutes(2), "submit", "-o", "json",
          pair.getValue() + ".yaml");
      assertThat(submitted.exitCode()).as("%s\n--- engine %s\n%s", submitted, pair.getValue(),
          output(pair.getValue())).isZero();
      assertThat(JSON.readTree(submitted.stdout()).path("ids")).hasSize(JOBS_EACH);
    }
    // killed mid-run: some of its jobs done, the others queued, submitting or running
    await().atMost(Duration.ofSeconds(90)).until(() -> markers(ran, "a-") >= 10);
    long killed = System.nanoTime();
    engineA.destroyForcibly();
    assertThat(engineA.waitFor(30, TimeUnit.SECONDS)).isTrue();
    // takeover time (BENCHMARKS.md, issue 18): the lease (10 s) plus at most one heartbeat
    await().atMost(Duration.ofSeconds(60)).until(() -> output("b").contains("took over"));
    System.out.printf("takeover: engine b took engine a's jobs over %d ms after the SIGKILL%n",
        (System.nanoTime() - killed) / 1_000_000);
    assertThat(markers(ran, "a-")).as("engine a was killed before it ran all its jobs")
        .isLessThan(JOBS_EACH);

    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).until(() ->
        states(b).values().stream().allMatch(s -> s.equals("SUCCEEDED") || s.equals("FAILED")
            || s.equals("CANCELLED")));
    var states = states(b);
    assertThat(states).hasSize(2 * JOBS_EACH);
    assertThat(states.values()).as("every job, as engine b reports it").containsOnly("SUCCEEDED");
    assertThat(output("b")).as("engine b took engine a's jobs over")
        .containsPattern("took over [1-9][0-9]* live job");
    assertEveryJobRanOnce(ran, 2 * JOBS_EACH);
  }

  @Test
  void jobsSubmittedAllToAnEngineAtItsMaxJobsRunOnBothEnginesEachOnce() throws Exception {
    var url = Testbed.freshPostgresSchema();
    var folders = Files.createDirectory(tmp.resolve("jobs"));
    var ran = Files.createDirectory(tmp.resolve("ran"));
    var a = install("a", url, folders, ", max_jobs: 2");
    var b = install("b", url, folders, ", max_jobs: 2");
    start(a, "a");
    start(b, "b");
    int jobs = 40;
    Files.writeString(tmp.resolve("all.yaml"), """
        sweep: {n: {from: 1, to: %d}}
        job:
          name: 'j-${n}'
          executable: /bin/sh
          arguments: [-c, 'sleep 0.5; echo run >> "$2/j-$1"', sh, '${n}', '%s']
        """.formatted(jobs, ran));
    var submitted = a.run(tmp, Duration.ofMinutes(2), "submit", "-o", "json", "all.yaml");
    assertThat(submitted.exitCode()).as("%s\n--- engine a\n%s", submitted, output("a")).isZero();

    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).until(() ->
        states(a).values().stream().allMatch(s -> s.equals("SUCCEEDED") || s.equals("FAILED")
            || s.equals("CANCELLED")));
    assertThat(states(b).values()).as("every job, as engine b reports it").hasSize(jobs)
        .containsOnly("SUCCEEDED");
    assertEveryJobRanOnce(ran, jobs);
    // the engine that wrote a job's end is the engine that ran it
    try (var c = java.sql.DriverManager.getConnection(url, Testbed.get("PG_USER"),
        Testbed.get("PG_PASSWORD")); var s = c.createStatement();
        var rs = s.executeQuery("SELECT e.home, COUNT(*) FROM jobs j JOIN engines e ON"
            + " e.id = j.engine_id GROUP BY e.home")) {
      var ranBy = new TreeMap<String, Long>();
      while (rs.next()) {
        var home = Path.of(rs.getString(1)).toRealPath();
        ranBy.put(home.startsWith(tmp.resolve("a").toRealPath()) ? "a"
            : home.startsWith(tmp.resolve("b").toRealPath()) ? "b" : home.toString(), rs.getLong(2));
      }
      assertThat(ranBy).as("jobs run by each engine (by home)").containsOnlyKeys("a", "b");
      assertThat(ranBy.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(jobs);
    }
  }

  static void assertEveryJobRanOnce(Path ran, int jobs) throws Exception {
    var twice = new ArrayList<String>();
    try (Stream<Path> s = Files.list(ran)) {
      for (var marker : s.toList()) {
        if (Files.readAllLines(marker).size() != 1) {
          twice.add(marker.getFileName() + " ran " + Files.readAllLines(marker).size() + " times");
        }
      }
    }
    assertThat(twice).as("jobs that ran more than once").isEmpty();
    assertThat(markers(ran, "")).as("jobs that ran").isEqualTo(jobs);
  }
}
