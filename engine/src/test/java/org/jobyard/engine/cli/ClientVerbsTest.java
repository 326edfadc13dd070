package org.jobyard.engine.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jobyard.api.JobSpec;
import org.jobyard.engine.Engine;
import org.jobyard.engine.access.Access;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.control.JobControl;
import org.jobyard.engine.http.ApiServer;
import org.jobyard.engine.http.Authenticator;
import org.jobyard.engine.http.ScriptedBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client verbs in process against a real engine and API, finding it the way they do on the
 * engine's machine: through var/run/ of the installation.
 */
class ClientVerbsTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path home;
  static Engine engine;
  static ApiServer server;

  @BeforeAll
  static void start() throws Exception {
    var conf = home.resolve("jobyard.yaml");
    Files.writeString(conf, """
        engine: {poll_interval: 100ms}
        clusters:
          t: {backend: scripted}
        """);
    var config = ConfigLoader.load(home, conf);
    engine = Engine.create(config).start();
    var token = Authenticator.newToken();
    // the tester stands for the engine's owner, as the var/run token does
    server = new ApiServer(new JobControl(engine, new Access(config, "tester")),
        new Authenticator(List.of(
        new EngineConfig.Api.Token("tester", token, true))), "127.0.0.1:0").start();
    Files.createDirectories(home.resolve("var/run"));
    EngineCommand.writeAtomically(home.resolve("var/run/engine.url"), server.url() + "\n", false);
    EngineCommand.writeAtomically(home.resolve("var/run/token"), token + "\n", true);
    System.setProperty("jobyard.home", home.toString());
  }

  @AfterAll
  static void stop() {
    System.clearProperty("jobyard.home");
    if (server != null) {
      server.close();
    }
    if (engine != null) {
      engine.close();
    }
  }

  record Result(int exit, String out, String err) {}

  static Result run(String... args) {
    var out = new StringWriter();
    var err = new StringWriter();
    int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Result(exit, out.toString(), err.toString());
  }

  static String submitOne(String yaml) throws Exception {
    var f = Files.writeString(Files.createTempFile(home, "job", ".yaml"), yaml);
    var r = run("submit", "-o", "json", f.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    return JSON.readTree(r.out()).path("ids").get(0).asText();
  }

  static String state(String id) throws Exception {
    var r = run("ps", "-o", "json", id);
    return JSON.readTree(r.out()).path("jobs").path(0).path("state").asText("GONE");
  }

  @Test
  void theLogOfAJobWithoutAnOutputFileIsReadThroughItsBackend() throws Exception {
    var id = submitOne("{name: remote-log, executable: ok, arguments: [one, two, three]}");
    await().atMost(Duration.ofSeconds(20)).until(() -> state(id).equals("SUCCEEDED"));

    var r = run("logs", "-n", "2", id);

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("two\nthree\n");
  }

  @Test
  void showPrintsEveryAttemptAndWhereTheOutputIsKept() throws Exception {
    var id = submitOne("{name: shown, executable: hang, arguments: [x]}");
    await().atMost(Duration.ofSeconds(20)).until(() -> state(id).equals("RUNNING"));
    ScriptedBackend.finish(id, 7);
    await().atMost(Duration.ofSeconds(20)).until(() -> state(id).equals("FAILED"));

    var json = run("show", "-o", "json", id);
    assertThat(json.exit()).as(json.err()).isZero();
    var shown = JSON.readTree(json.out());
    assertThat(shown.path("job").path("state").asText()).isEqualTo("FAILED");
    var attempt = shown.path("attempts").get(0);
    assertThat(shown.path("attempts")).hasSize(1);
    assertThat(attempt.path("cluster").asText()).isEqualTo("t");
    assertThat(attempt.path("native_id").asText()).isEqualTo(id + ".1");
    assertThat(attempt.path("exit_code").asInt()).isEqualTo(7);
    assertThat(attempt.path("started_at").isTextual()).as(json.out()).isTrue();
    assertThat(attempt.path("ended_at").isTextual()).as(json.out()).isTrue();
    assertThat(attempt.path("wall_seconds").isNumber()).as(json.out()).isTrue();
    assertThat(shown.path("output").path("stdout").isNull()).isTrue();
    assertThat(shown.path("output").path("kept_by").asText()).isEqualTo("t");

    var table = run("show", id);
    assertThat(table.exit()).as(table.err()).isZero();
    assertThat(table.out()).contains("job      " + id + "  shown").contains("failed, exit 7")
        .contains("stdout   kept with the job on cluster 't'; read it with: jobyard logs " + id)
        .contains("ATTEMPT  CLUSTER  NATIVE_ID").contains(id + ".1");
    // and the log is where show says it is
    assertThat(run("logs", id).out()).isEqualTo("x\n");
    assertThat(run("show", "no-such-job").exit()).isEqualTo(Main.JOBS_FAILED);
  }

  @Test
  void restartTakesTheSameSelectorsAsKillAndRunsEveryFinishedJobItSelects() throws Exception {
    var a = submitOne("{name: again-a, session: again, executable: fail}");
    var b = submitOne("{name: again-b, session: again, executable: fail}");
    var ok = submitOne("{name: again-ok, session: again, executable: ok}");
    await().atMost(Duration.ofSeconds(20)).until(() -> state(a).equals("FAILED")
        && state(b).equals("FAILED") && state(ok).equals("SUCCEEDED"));

    var r = run("restart", "-o", "json", "--session", "again", "--state", "failed");
    assertThat(r.exit()).as(r.err()).isZero();
    var ids = new java.util.ArrayList<String>();
    JSON.readTree(r.out()).path("ids").forEach(i -> ids.add(i.asText()));
    assertThat(ids).containsExactlyInAnyOrder(a, b);
    await().atMost(Duration.ofSeconds(20)).until(() -> state(a).equals("FAILED")
        && state(b).equals("FAILED") && JSON.readTree(run("show", "-o", "json", a).out())
            .path("attempts").size() == 2);
    assertThat(run("restart").exit()).isEqualTo(Main.BAD_INPUT); // no selection, no --all
  }

  @Test
  void theIdSelectorPicksExactlyTheJobsItNames() throws Exception {
    var a = submitOne("{name: by-id, session: ids, executable: hang}");
    var b = submitOne("{name: by-id, session: ids, executable: hang}");
    var c = submitOne("{name: by-id, session: ids, executable: hang}");

    var listed = run("ps", "-o", "json", "--id", a + "," + c);
    assertThat(listed.exit()).as(listed.err()).isZero();
    assertThat(JSON.readTree(listed.out()).path("jobs").findValuesAsText("id"))
        .containsExactlyInAnyOrder(a, c);

    assertThat(run("kill", "--id", b).exit()).isZero();
    await().atMost(Duration.ofSeconds(20)).until(() -> state(b).equals("CANCELLED"));
    assertThat(state(a)).isNotEqualTo("CANCELLED");
    assertThat(run("kill", "--session", "ids").exit()).isZero();
  }

  @Test
  void submitsAndListsJobsAsATableOrJson() throws Exception {
    var id = submitOne("""
        name: listed
        session: table
        executable: ok
        """);
    await().atMost(Duration.ofSeconds(20)).until(() -> state(id).equals("SUCCEEDED"));
    var table = run("ps", "--session", "table");
    assertThat(table.exit()).isZero();
    assertThat(table.out()).startsWith("ID").contains(id).contains("listed")
        .contains("succeeded");
    assertThat(run("ps", "--session", "no-such-session").exit()).isEqualTo(1);
  }

  @Test
  void psNarrowsTheListingToTheJobsOfOneCluster() throws Exception {
    var id = submitOne("{name: on-t, session: by-cluster, executable: ok}");
    await().atMost(Duration.ofSeconds(20)).until(() -> state(id).equals("SUCCEEDED"));
    var onT = run("ps", "-o", "json", "--session", "by-cluster", "--cluster", "t");
    assertThat(onT.exit()).as(onT.err()).isZero();
    assertThat(JSON.readTree(onT.out()).path("jobs").findValuesAsText("id")).containsExactly(id);
    var elsewhere = run("ps", "--session", "by-cluster", "--cluster", "other");
    assertThat(elsewhere.exit()).isEqualTo(Main.JOBS_FAILED);
    assertThat(elsewhere.err()).contains("no job matches");
  }

  @Test
  void psWatchRedrawsTheTableUntilInterrupted() throws Exception {
    var id = submitOne("{name: watched, session: watch, executable: ok}");
    var out = new StringWriter();
    var exit = new java.util.concurrent.atomic.AtomicInteger(-1);
    var watcher = Thread.ofPlatform().start(() -> exit.set(Main.execute(
        new PrintWriter(out, true), new PrintWriter(new StringWriter(), true),
        "ps", "--session", "watch", "--watch", "200ms")));
    try {
      await().atMost(Duration.ofSeconds(30)).until(() ->
          out.toString().split("every 200ms: jobyard ps", -1).length > 3);
      assertThat(out.toString()).contains(id).contains("watched");
    } finally {
      watcher.interrupt();
      watcher.join(Duration.ofSeconds(30));
    }
    assertThat(exit.get()).isZero();
    assertThat(run("ps", "--watch", "soon").exit()).isEqualTo(Main.BAD_INPUT);
    assertThat(run("ps", "--watch", "1s", "-o", "json").exit()).isEqualTo(Main.BAD_INPUT);
  }

  @Test
  void showsAndFollowsOneJobsLog() throws Exception {
    var out = home.resolve("logs/one.out");
    var id = submitOne("""
        name: talker
        executable: hang
        arguments: [a, b, c]
        stdout: %s
        """.formatted(out));
    await().atMost(Duration.ofSeconds(20)).until(() -> state(id).equals("RUNNING"));
    var last = run("logs", "-n", "2", "--name", "talker");
    assertThat(last.exit()).as(last.err()).isZero();
    assertThat(last.out()).isEqualTo("b\nc\n");
    var json = run("logs", "-o", "json", "-n", "1", id);
    assertThat(JSON.readTree(json.out()).path("lines").toString()).isEqualTo("[\"c\"]");

    // following ends with the job and says how it ended (the streaming itself: ApiServerTest)
    var follow = CompletableFuture.supplyAsync(() -> run("logs", "-f", "-n", "0", id));
    ScriptedBackend.finish(id, 3);
    var followed = follow.get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(followed.exit()).as("the followed job failed").isEqualTo(1);
    assertThat(followed.err()).contains("failed");
  }

  @Test
  void exitCodesTellScriptsWhatHappened() {
    var noSelection = run("kill");
    assertThat(noSelection.exit()).isEqualTo(2);
    assertThat(noSelection.err()).contains("needs a selection");
    assertThat(run("kill", "no-such-id").exit()).isEqualTo(1);
    assertThat(run("restart", "no-such-id").exit()).isEqualTo(1);
    assertThat(run("ps", "-o", "yaml").exit()).isEqualTo(2);
    assertThat(run("ps", "--state", "asleep").exit()).isEqualTo(2);
    var unreachable = run("ps", "--engine", "http://127.0.0.1:1/");
    assertThat(unreachable.exit()).isEqualTo(3);
    assertThat(unreachable.err()).contains("cannot reach the engine");
    assertThat(run("backends").out()).contains("scripted");
  }

  @Test
  void backendsShowsTheClustersConditionsAndCredentialExpiryAsATableAndAsJson() throws Exception {
    var conditions = engine.conditions();
    conditions.maintained("t", List.of(org.jobyard.api.Condition.error("health",
        "the CE answered 503")));
    conditions.credentialExpires("t", new org.jobyard.api.CredentialExpiry("proxy",
        java.time.Instant.now().plus(Duration.ofMinutes(90))));
    try {
      var table = run("backends").out();
      assertThat(table).contains("CONDITIONS").containsPattern(
          "(?m)^t +ERROR +health +the CE answered 503$").containsPattern(
          "(?m)^t +WARNING +credential +proxy expires in (1 h|8\\d min); renew it soon$");
      assertThat(table).containsPattern("(?m)^t +scripted +degraded ");

      var json = JSON.readTree(run("backends", "-o", "json").out()).path("clusters").get(0);
      assertThat(json.path("status").asText()).isEqualTo("degraded");
      assertThat(json.path("credentials").get(0).path("status").asText()).isEqualTo("expiring");
      assertThat(json.path("credentials").get(0).path("expires_in_seconds").asLong())
          .isBetween(80 * 60L, 90 * 60L);
      assertThat(json.path("conditions").get(0).path("severity").asText()).isEqualTo("error");
    } finally {
      conditions.maintained("t", List.of());
      conditions.credentialExpires("t", new org.jobyard.api.CredentialExpiry("proxy",
          java.time.Instant.now().plus(Duration.ofDays(10))));
    }
    assertThat(run("backends").out()).containsPattern("(?m)^t +OK +credential +proxy expires "
        + "in \\d+ d$");
  }

  @Test
  void jobDocumentsGetAbsolutePathsFromTheSubmittingFolder() throws Exception {
    var yaml = new ObjectMapper(new YAMLFactory());
    var base = Path.of("/home/alice/work");
    var tree = yaml.readTree("""
        - name: a
          executable: ./run
          directory: sub
          stdout: out/a.out
          stderr: /abs/a.err
          inputs: [data/in.dat, {source: cfg.yaml, destination: c.yaml}]
          outputs: [res/r.json, {source: x.txt, destination: results/x.txt}]
        """);
    var job = Paths.resolveTree(tree, base).get(0);
    assertThat(job.path("directory").asText()).isEqualTo("/home/alice/work/sub");
    assertThat(job.path("stdout").asText()).isEqualTo("/home/alice/work/out/a.out");
    assertThat(job.path("stderr").asText()).isEqualTo("/abs/a.err");
    assertThat(job.path("executable").asText()).isEqualTo("./run");
    assertThat(job.path("inputs").get(0).path("source").asText())
        .isEqualTo("/home/alice/work/data/in.dat");
    assertThat(job.path("inputs").get(0).path("destination").asText()).isEqualTo("in.dat");
    assertThat(job.path("inputs").get(1).path("source").asText())
        .isEqualTo("/home/alice/work/cfg.yaml");
    assertThat(job.path("outputs").get(0).path("destination").asText())
        .isEqualTo("/home/alice/work/r.json");
    assertThat(job.path("outputs").get(1).path("destination").asText())
        .isEqualTo("/home/alice/work/results/x.txt");

    var sweep = yaml.readTree("{sweep: {n: [1, 2]}, job: {name: 's${n}', executable: x, "
        + "stdout: 'o/${n}.out'}}");
    assertThat(Paths.resolveTree(sweep, base).path("job").path("stdout").asText())
        .isEqualTo("/home/alice/work/o/${n}.out");
  }

  @Test
  void anInputFromAUrlKeepsItsUrlWhileLocalInputsBecomeAbsolute() throws Exception {
    var base = Path.of("/home/alice/work");
    var tree = new ObjectMapper(new YAMLFactory()).readTree("""
        {name: a, executable: cat, inputs: ['https://data.example.org/d/in.dat',
          {source: 'http://127.0.0.1:8080/c.yaml', destination: c.yaml}, local.txt]}
        """);
    var inputs = Paths.resolveTree(tree, base).path("inputs");
    assertThat(inputs.get(0).path("source").asText())
        .isEqualTo("https://data.example.org/d/in.dat");
    assertThat(inputs.get(0).path("destination").asText()).isEqualTo("in.dat");
    assertThat(inputs.get(1).path("source").asText()).isEqualTo("http://127.0.0.1:8080/c.yaml");
    assertThat(inputs.get(2).path("source").asText()).isEqualTo("/home/alice/work/local.txt");

    var spec = Paths.resolve(JobSpec.of("a", "cat").withPaths(null, null, null,
        List.of(new JobSpec.FileTransfer("http://h/x", "x"),
            new JobSpec.FileTransfer("y", "y")), List.of()), base);
    assertThat(spec.inputFiles()).extracting(JobSpec.FileTransfer::source)
        .containsExactly("http://h/x", "/home/alice/work/y");
  }
}
