package org.jobyard.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/jobyard engine} from the unpacked tarball, driven through every verb of the command
 * line and through the REST API: the local user (an admin, token in var/run) plus two users whose
 * tokens are in the configuration.
 */
class DaemonIT {
  static final Duration CLI = Duration.ofMinutes(1);
  static final String ALICE = "alice-0123456789abcdef";
  static final String BOB = "bob-0123456789abcdefgh";
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path tmp;
  static Tarball tarball;
  static Daemon daemon;
  static Path work;
  static final HttpClient HTTP = HttpClient.newHttpClient();

  /** A running {@code bin/jobyard engine}: its process, console, address and the local token. */
  record Daemon(Process process, Path consoleFile, URI url, String token) {
    static Daemon start(Tarball tarball) throws Exception {
      var console = Files.createTempFile("jobyard-engine", ".out");
      var pb = new ProcessBuilder(tarball.home.resolve("bin/jobyard").toString(), "engine")
          .directory(tarball.home.toFile()).redirectErrorStream(true)
          .redirectOutput(console.toFile());
      pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
      var p = pb.start();
      var urlFile = tarball.home.resolve("var/run/engine.url");
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
          .failFast("the engine exited:\n" + console, () -> !p.isAlive())
          .until(() -> Files.exists(urlFile)
              && Tarball.read(console).contains("API listening on "));
      var url = URI.create(Files.readString(urlFile).strip());
      var token = Files.readString(tarball.home.resolve("var/run/token")).strip();
      return new Daemon(p, console, url, token);
    }

    String console() throws Exception {
      return Tarball.read(consoleFile);
    }

    /** SIGTERM, then SIGKILL if it has not stopped within a minute. */
    void stop() throws Exception {
      process.destroy();
      process.waitFor(60, TimeUnit.SECONDS);
      process.destroyForcibly();
    }
  }

  @BeforeAll
  static void startTheEngine() throws Exception {
    tarball = Tarball.unpack(Files.createDirectory(tmp.resolve("dist")));
    work = Files.createDirectory(tmp.resolve("work"));
    Files.writeString(tarball.home.resolve("conf/jobyard.yaml"), """
        engine: {poll_interval: 200ms}
        api:
          listen: 127.0.0.1:0
          tokens:
            - {user: alice, token: %s, account: %s}
            - {user: bob, token_file: conf/bob.token}
        clusters:
          local: {backend: local, users: [alice]}
        """.formatted(ALICE, System.getProperty("user.name")));
    Files.writeString(tarball.home.resolve("conf/bob.token"), BOB + "\n");
    daemon = Daemon.start(tarball);
  }

  @AfterAll
  static void stopTheEngine() throws Exception {
    if (daemon != null) {
      daemon.process().destroy();
      daemon.process().waitFor(60, TimeUnit.SECONDS);
      daemon.process().destroyForcibly();
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  static Tarball.Result cli(String... args) throws Exception {
    return tarball.run(work, CLI, args);
  }

  static Tarball.Result as(String token, String... args) throws Exception {
    return tarball.run(work, CLI, Map.of("JOBYARD_TOKEN", token), args);
  }

  private static String readLine(java.io.BufferedReader r) {
    try {
      return r.readLine();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static Path file(String name, String content) throws Exception {
    return Files.writeString(work.resolve(name), content);
  }

  static List<String> submit(String token, String file) throws Exception {
    var r = as(token, "submit", "-o", "json", file);
    assertThat(r.exitCode()).as(r.toString()).isZero();
    var ids = new ArrayList<String>();
    JSON.readTree(r.stdout()).path("ids").forEach(i -> ids.add(i.asText()));
    return ids;
  }

  record Http(int status, String body) {
    JsonNode json() throws Exception {
      return JSON.readTree(body);
    }
  }

  static Http http(String method, String path, String token, String contentType, byte[] body)
      throws Exception {
    var b = HttpRequest.newBuilder(daemon.url().resolve(path)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    var r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Http(r.statusCode(), r.body());
  }

  static String state(String id) throws Exception {
    var jobs = http("GET", "api/v1/jobs?id=" + id, daemon.token(), null, null).json()
        .path("jobs");
    return jobs.isEmpty() ? "GONE" : jobs.get(0).path("state").asText();
  }

  static void awaitState(String id, String state) {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> state(id).equals(state));
  }

  static int jobCount() throws Exception {
    return http("GET", "api/v1/jobs", daemon.token(), null, null).json().path("jobs").size();
  }

  // --- tests -------------------------------------------------------------------------------

  @Test
  void jobyardEngineInTheEnvironmentComesBeforeThisInstallationsVarRun() throws Exception {
    var wrong = tarball.run(work, CLI, Map.of("JOBYARD_ENGINE", "not-a-url"), "ps");
    assertThat(wrong.exitCode()).as(wrong.toString()).isEqualTo(2);
    assertThat(wrong.stderr()).contains("JOBYARD_ENGINE: not a URL");

    var url = Files.readString(tarball.home.resolve("var/run/engine.url")).strip();
    var right = tarball.run(work, CLI, Map.of("JOBYARD_ENGINE", url), "ps");
    assertThat(right.exitCode()).as(right.toString()).isZero();
  }

  @Test
  void writesItsAddressAndAnOwnerOnlyTokenAndLogsToVarLog() throws Exception {
    assertThat(daemon.console()).contains("API listening on " + daemon.url());
    assertThat(Files.getPosixFilePermissions(tarball.home.resolve("var/run/token")))
        .isEqualTo(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
    assertThat(Tarball.read(tarball.home.resolve("var/log/jobyard.log")))
        .contains("API listening on");
    var health = cli("backends", "-o", "json");
    assertThat(health.exitCode()).as(health.toString()).isZero();
    assertThat(health.stdout()).contains("\"local\"");
    var table = cli("backends");
    assertThat(table.stdout()).contains("CLUSTERS").containsPattern("local +local +ok");
  }

  @Test
  void submitsListsAndShowsAndFollowsLogsThroughTheCli() throws Exception {
    // The job holds after its first line until the test has seen the follower print it, so the
    // follower is surely attached before the rest is written, however slowly its JVM starts.
    var gate = work.resolve("counter.go");
    file("count.yaml", """
        name: counter
        session: logs
        executable: /bin/sh
        arguments: [-c, 'echo "line 1"; n=0; while [ ! -e "$0" ]; do sleep 0.1; n=$((n+1)); \
          [ $n -lt 1200 ] || exit 9; done; for i in 2 3 4 5; do echo "line $i"; sleep 0.2; done',
          '%s']
        stdout: out/counter.out
        """.formatted(gate));
    var id = submit(daemon.token(), "count.yaml").getFirst();
    await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(work.resolve("out/counter.out"))
        && Files.readString(work.resolve("out/counter.out")).startsWith("line 1"));
    var follower = tarball.start(work, Map.of(), "logs", "-f", "-n", "1", id);
    try (var lines = follower.inputReader(StandardCharsets.UTF_8)) {
      var first = java.util.concurrent.CompletableFuture.supplyAsync(() -> readLine(lines));
      assertThat(first.get(1, TimeUnit.MINUTES)).isEqualTo("line 1");
      Files.createFile(gate);
      var rest = java.util.concurrent.CompletableFuture.supplyAsync(
          () -> lines.lines().toList());
      assertThat(rest.get(1, TimeUnit.MINUTES))
          .as("what 'logs -f' printed after it had attached")
          .containsExactly("line 2", "line 3", "line 4", "line 5");
      assertThat(follower.waitFor(1, TimeUnit.MINUTES)).isTrue();
      assertThat(follower.exitValue()).isZero();
    } finally {
      follower.destroyForcibly();
    }
    assertThat(state(id)).isEqualTo("SUCCEEDED");
    assertThat(work.resolve("out/counter.out")).exists(); // relative to where submit ran

    var last = cli("logs", "-n", "2", "--name", "counter");
    assertThat(last.exitCode()).as(last.toString()).isZero();
    assertThat(last.stdout()).isEqualTo("line 4\nline 5\n");

    var ps = cli("ps", "--session", "logs");
    assertThat(ps.stdout()).contains(id).contains("counter").contains("succeeded");
    var psJson = JSON.readTree(cli("ps", "-o", "json", id).stdout());
    assertThat(psJson.path("jobs").get(0).path("exit_code").asInt()).isZero();
    assertThat(cli("ps", "--name", "no-such-job").exitCode()).isEqualTo(1);
  }

  @Test
  void logsFollowOfAFailingJobExitsOne() throws Exception {
    file("fails.yaml", """
        name: fails
        executable: /bin/sh
        arguments: [-c, 'echo going down >&2; exit 4']
        stderr: out/fails.err
        """);
    var id = submit(daemon.token(), "fails.yaml").getFirst();
    var follow = cli("logs", "-f", "--stderr", id);
    assertThat(follow.exitCode()).as(follow.toString()).isEqualTo(1);
    assertThat(follow.stdout()).isEqualTo("going down\n");
    assertThat(follow.stderr()).contains("failed");
  }

  @Test
  void restartsADeadJobAndFlushRefusesALiveOne() throws Exception {
    file("restart.yaml", """
        - name: once-more
          session: rs
          executable: /bin/sh
          arguments: [-c, 'echo run >> out/runs.txt; exit 1']
          directory: .
        - name: long-runner
          session: rs
          executable: /bin/sleep
          arguments: ["300"]
        """);
    Files.createDirectories(work.resolve("out"));
    var ids = submit(daemon.token(), "restart.yaml");
    var dead = ids.get(0);
    var live = ids.get(1);
    awaitState(dead, "FAILED");
    awaitState(live, "RUNNING");

    var restartLive = cli("restart", live);
    assertThat(restartLive.exitCode()).as(restartLive.toString()).isEqualTo(1);
    assertThat(restartLive.stderr()).contains("still live: [" + live + "]");
    // a selection holding a live job restarts nothing, not even its finished jobs
    var restartBoth = cli("restart", "--session", "rs");
    assertThat(restartBoth.exitCode()).isEqualTo(1);
    assertThat(restartBoth.stderr()).contains("nothing was restarted");

    var flush = cli("flush", "--session", "rs");
    assertThat(flush.exitCode()).as(flush.toString()).isEqualTo(1);
    assertThat(flush.stderr()).contains("nothing was removed");
    assertThat(state(dead)).isEqualTo("FAILED");

    var restart = cli("restart", dead);
    assertThat(restart.exitCode()).as(restart.toString()).isZero();
    assertThat(restart.stdout()).contains("restarted 1 job(s): " + dead);
    await().atMost(Duration.ofSeconds(60)).until(() ->
        Files.exists(work.resolve("out/runs.txt"))
            && Files.readAllLines(work.resolve("out/runs.txt")).size() == 2
            && state(dead).equals("FAILED"));

    assertThat(cli("kill", live).exitCode()).isZero();
    awaitState(live, "CANCELLED");
    var flushed = cli("flush", "--session", "rs");
    assertThat(flushed.exitCode()).as(flushed.toString()).isZero();
    assertThat(flushed.stdout()).contains("flushed 2 job(s)");
    await().atMost(Duration.ofSeconds(30)).until(() -> state(dead).equals("GONE"));
  }

  @Test
  void pausesThenResumesAJob() throws Exception {
    file("pause.yaml", """
        name: sleeper
        session: pr
        executable: /bin/sleep
        arguments: ["300"]
        """);
    var id = submit(daemon.token(), "pause.yaml").getFirst();
    awaitState(id, "RUNNING");
    var pause = cli("pause", "--session", "pr");
    assertThat(pause.exitCode()).as(pause.toString()).isZero();
    assertThat(pause.stdout()).contains("paused 1 job(s): " + id);
    awaitState(id, "PAUSED");
    var resume = cli("resume", id, "-o", "json");
    assertThat(resume.exitCode()).as(resume.toString()).isZero();
    assertThat(JSON.readTree(resume.stdout()).path("ids").get(0).asText()).isEqualTo(id);
    awaitState(id, "RUNNING");
    assertThat(cli("kill", "--session", "pr").exitCode()).isZero();
    awaitState(id, "CANCELLED");
    assertThat(cli("resume", id).exitCode()).isEqualTo(1); // nothing paused any more
  }

  @Test
  void twoUsersCannotSeeOrKillEachOthersJobs() throws Exception {
    file("mine.yaml", """
        name: alices-job
        session: iso
        executable: /bin/sleep
        arguments: ["300"]
        """);
    var id = submit(ALICE, "mine.yaml").getFirst();
    awaitState(id, "RUNNING");

    var bobPs = as(BOB, "ps", "-o", "json");
    assertThat(bobPs.exitCode()).as(bobPs.toString()).isZero();
    assertThat(bobPs.stdout()).doesNotContain(id);
    assertThat(as(BOB, "ps", id).exitCode()).isEqualTo(1);
    assertThat(as(BOB, "ps", "--user", "alice").exitCode()).isEqualTo(1);
    var bobKill = as(BOB, "kill", id);
    assertThat(bobKill.exitCode()).isEqualTo(1);
    assertThat(as(BOB, "kill", "--user", "alice").exitCode()).isEqualTo(1);
    assertThat(as(BOB, "logs", id).exitCode()).isEqualTo(1);
    assertThat(http("GET", "api/v1/jobs/" + id + "/logs", BOB, null, null).status())
        .isEqualTo(404);
    assertThat(http("POST", "api/v1/jobs/restart", BOB, "application/json",
        ("{\"ids\": [\"" + id + "\"]}").getBytes()).status()).isEqualTo(404);
    assertThat(state(id)).isEqualTo("RUNNING");

    var alicePs = as(ALICE, "ps", "--session", "iso");
    assertThat(alicePs.stdout()).contains(id).contains("alice");
    var adminPs = cli("ps", "--user", "alice");
    assertThat(adminPs.stdout()).contains(id);
    assertThat(as(ALICE, "kill", id).exitCode()).isZero();
    awaitState(id, "CANCELLED");
  }

  @Test
  void theApiRejectsBadRequestsWholeAndChangesNothing() throws Exception {
    int before = jobCount();
    var malformed = http("POST", "api/v1/jobs", daemon.token(), "application/json",
        "{\"name\": \"x\", \"executable\": ".getBytes());
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(malformed.json().path("error").path("code").asText()).isEqualTo("invalid");
    assertThat(malformed.json().path("error").path("message").asText()).contains("JSON");

    var unknown = http("POST", "api/v1/jobs", daemon.token(), "application/json",
        "{\"name\": \"x\", \"executable\": \"/bin/true\", \"nice\": 9}".getBytes());
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(unknown.json().path("error").path("message").asText()).contains("nice");

    var badSelection = http("POST", "api/v1/jobs/kill", daemon.token(), "application/json",
        "{\"name\": [\"x\"]}".getBytes());
    assertThat(badSelection.status()).isEqualTo(400);
    assertThat(badSelection.json().path("error").path("message").asText()).contains("name");

    var big = new byte[11 * 1024 * 1024];
    java.util.Arrays.fill(big, (byte) ' ');
    big[0] = '[';
    big[big.length - 1] = ']';
    var oversized = http("POST", "api/v1/jobs", daemon.token(), "application/json", big);
    assertThat(oversized.status()).isEqualTo(413);
    assertThat(oversized.json().path("error").path("code").asText())
        .isEqualTo("payload_too_large");

    var wrongToken = http("POST", "api/v1/jobs", "not-a-token-of-this-engine", "application/json",
        "{\"name\": \"x\", \"executable\": \"/bin/true\"}".getBytes());
    assertThat(wrongToken.status()).isEqualTo(401);
    assertThat(wrongToken.json().path("error").path("code").asText()).isEqualTo("unauthorized");
    assertThat(http("GET", "api/v1/jobs", null, null, null).status()).isEqualTo(401);
    assertThat(jobCount()).isEqualTo(before);

    var cliWrongToken = as("not-a-token-of-this-engine", "ps");
    assertThat(cliWrongToken.exitCode()).isEqualTo(2);
    assertThat(cliWrongToken.stderr()).contains("not valid");
    var unreachable = cli("ps", "--engine", "http://127.0.0.1:1/");
    assertThat(unreachable.exitCode()).isEqualTo(3);
    assertThat(unreachable.stderr()).contains("cannot reach the engine");

    var doc = http("GET", "api/v1/openapi.yaml", daemon.token(), null, null);
    assertThat(doc.status()).isEqualTo(200);
    assertThat(doc.body()).contains("/api/v1/jobs/{id}/logs");
  }

  @Test
  void submitRejectsAnInvalidFileWholeBeforeAskingTheEngine() throws Exception {
    int before = jobCount();
    file("bad.yaml", """
        - {name: good, executable: /bin/true}
        - {name: typo, executable: /bin/true, retires: 2}
        """);
    var r = cli("submit", "bad.yaml");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("retires").contains("nothing was submitted");
    assertThat(jobCount()).isEqualTo(before);
  }

  @Test
  void helpTeachesWithExamplesAndExitCodes() throws Exception {
    var help = cli("--help");
    assertThat(help.exitCode()).isZero();
    assertThat(help.stdout()).contains("engine", "submit", "ps", "kill", "restart", "flush",
        "logs", "pause", "resume", "backends", "Exit status");
    var logsHelp = cli("logs", "--help");
    assertThat(logsHelp.stdout()).contains("Examples:", "-f", "JOBYARD_TOKEN");
  }

  @Test
  void servesTheDashboardMetricsAndHealthFromTheTarballWithoutAToken() throws Exception {
    var page = http("GET", "", null, null, null);
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.body()).contains("/dashboard/app.js").contains("login-form");
    var script = http("GET", "dashboard/app.js", null, null, null);
    assertThat(script.status()).isEqualTo(200);
    assertThat(script.body()).contains("sessionStorage").contains("textContent");

    var metrics = http("GET", "metrics", null, null, null);
    assertThat(metrics.status()).as(metrics.body()).isEqualTo(200);
    assertThat(metrics.body()).contains("# TYPE jobyard_jobs gauge").contains("jobyard_store_up 1")
        .contains("jobyard_cluster_up{cluster=\"local\"} 1");
    assertThat(http("GET", "healthz", null, null, null).status()).isEqualTo(200);
    var ready = http("GET", "readyz", null, null, null);
    assertThat(ready.status()).as(ready.body()).isEqualTo(200);
    assertThat(ready.json().path("status").asText()).isEqualTo("ready");
  }
}
