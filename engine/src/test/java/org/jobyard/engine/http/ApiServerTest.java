package org.jobyard.engine.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jobyard.engine.Engine;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.control.JobControl;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The REST API against a real engine (H2 in a temporary folder, a scripted backend). */
class ApiServerTest {
  static final String ALICE = "alice-token-0123456789";
  static final String BOB = "bob-token-0123456789ab";
  static final String ADMIN = "admin-token-0123456789";
  static final long MAX_BODY = 64 * 1024;
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path home;

  static Engine engine;
  static ApiServer server;
  static HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    var conf = home.resolve("jobyard.yaml");
    Files.writeString(conf, """
        engine: {poll_interval: 100ms, retry_backoff: 100ms}
        clusters:
          t: {backend: scripted, users: ["*"]}
        api:
          listen: 127.0.0.1:0
          tokens:
            - {user: alice, token: %s}
            - {user: bob, token: %s}
            - {user: ops, token: %s, admin: true}
        """.formatted(ALICE, BOB, ADMIN));
    var config = ConfigLoader.load(home, conf);
    engine = Engine.create(config).start();
    // alice stands for the engine's owner: her jobs' logs are read from the files they name
    var access = new org.jobyard.engine.access.Access(config, "alice");
    server = new ApiServer(new JobControl(engine, access), new Authenticator(config.api().tokens()),
        config.api().listen(), MAX_BODY).start();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (engine != null) {
      engine.close();
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  record Answer(int status, String body, Map<String, List<String>> headers) {
    JsonNode json() throws Exception {
      return JSON.readTree(body);
    }

    String errorCode() throws Exception {
      return json().path("error").path("code").asText();
    }
  }

  static Answer call(String method, String path, String token, String contentType, byte[] body)
      throws Exception {
    var b = HttpRequest.newBuilder(server.url().resolve(path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    var r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Answer(r.statusCode(), r.body(), r.headers().map());
  }

  static Answer get(String path, String token) throws Exception {
    return call("GET", path, token, null, null);
  }

  static Answer post(String path, String token, String json) throws Exception {
    return call("POST", path, token, "application/json", json.getBytes(StandardCharsets.UTF_8));
  }

  static List<String> submit(String token, String json) throws Exception {
    var a = post("api/v1/jobs", token, json);
    assertThat(a.status()).as(a.body()).isEqualTo(201);
    var ids = new ArrayList<String>();
    a.json().path("ids").forEach(i -> ids.add(i.asText()));
    return ids;
  }

  static String state(String id) throws Exception {
    var jobs = get("api/v1/jobs?id=" + id, ADMIN).json().path("jobs");
    return jobs.isEmpty() ? "GONE" : jobs.get(0).path("state").asText();
  }

  static void awaitState(String id, String state) {
    await().atMost(Duration.ofSeconds(20)).until(() -> state(id).equals(state));
  }

  static String job(String name, String session, String executable, String... args) {
    try {
      return JSON.writeValueAsString(Map.of("name", name, "session", session, "executable",
          executable, "arguments", List.of(args)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static int jobCount() throws Exception {
    return get("api/v1/jobs", ADMIN).json().path("jobs").size();
  }

  // --- tests -------------------------------------------------------------------------------

  @Test
  void submitsListsAndReadsTheLogOfAJob() throws Exception {
    var out = home.resolve("out/hello.out");
    var ids = submit(ALICE, """
        {"name": "hello", "session": "s1", "executable": "ok",
         "arguments": ["one", "two", "three"], "stdout": "%s"}""".formatted(out));
    assertThat(ids).hasSize(1);
    awaitState(ids.getFirst(), "SUCCEEDED");

    var ps = get("api/v1/jobs?session=s1", ALICE);
    assertThat(ps.status()).isEqualTo(200);
    var jobView = ps.json().path("jobs").get(0);
    assertThat(jobView.path("name").asText()).isEqualTo("hello");
    assertThat(jobView.path("owner").asText()).isEqualTo("alice");
    assertThat(jobView.path("exit_code").asInt()).isZero();
    assertThat(jobView.path("cluster").asText()).isEqualTo("t");

    var logs = get("api/v1/jobs/" + ids.getFirst() + "/logs?lines=2", ALICE);
    assertThat(logs.status()).isEqualTo(200);
    assertThat(logs.body()).isEqualTo("two\nthree\n");
  }

  @Test
  void acceptsYamlAndSweeps() throws Exception {
    var a = call("POST", "api/v1/jobs", ALICE, "application/yaml", """
        sweep: {n: [1, 2, 3]}
        job: {name: 'sq-${n}', session: yaml, executable: ok}
        """.getBytes(StandardCharsets.UTF_8));
    assertThat(a.status()).as(a.body()).isEqualTo(201);
    assertThat(a.json().path("ids")).hasSize(3);
  }

  @Test
  void refusesRequestsWithoutAValidTokenAndChangesNothing() throws Exception {
    int before = jobCount();
    for (var token : new String[] {null, "wrong-token-0123456789", ""}) {
      var a = post("api/v1/jobs", token, job("x", "auth", "ok"));
      assertThat(a.status()).isEqualTo(401);
      assertThat(a.errorCode()).isEqualTo("unauthorized");
      assertThat(a.headers().get("www-authenticate")).isNotNull();
      assertThat(get("api/v1/jobs", token).status()).isEqualTo(401);
      assertThat(get("api/v1/health", token).status()).isEqualTo(401);
    }
    assertThat(jobCount()).isEqualTo(before);
    var health = get("api/v1/health", BOB).json();
    assertThat(health.path("user").asText()).isEqualTo("bob");
    assertThat(health.path("admin").asBoolean()).isFalse();
  }

  @Test
  void usersCannotSeeOrTouchEachOthersJobs() throws Exception {
    var id = submit(ALICE, job("private", "iso", "hang")).getFirst();
    awaitState(id, "RUNNING");

    assertThat(get("api/v1/jobs", BOB).json().path("jobs").toString()).doesNotContain(id);
    assertThat(get("api/v1/jobs?id=" + id, BOB).json().path("jobs")).isEmpty();
    assertThat(get("api/v1/jobs?user=alice", BOB).json().path("jobs")).isEmpty();
    assertThat(post("api/v1/jobs/kill", BOB, "{\"ids\": [\"" + id + "\"]}").json()
        .path("ids")).isEmpty();
    assertThat(post("api/v1/jobs/pause", BOB, "{\"users\": [\"alice\"]}").json()
        .path("ids")).isEmpty();
    var restart = post("api/v1/jobs/restart", BOB, "{\"ids\": [\"" + id + "\"]}");
    assertThat(restart.status()).isEqualTo(404);
    var logs = get("api/v1/jobs/" + id + "/logs", BOB);
    assertThat(logs.status()).isEqualTo(404);
    assertThat(logs.errorCode()).isEqualTo("not_found");
    assertThat(state(id)).isEqualTo("RUNNING");

    // the admin sees and acts on everyone's jobs
    assertThat(get("api/v1/jobs?user=alice", ADMIN).json().path("jobs").toString())
        .contains(id);
    assertThat(post("api/v1/jobs/kill", ADMIN, "{\"ids\": [\"" + id + "\"]}").json()
        .path("ids").get(0).asText()).isEqualTo(id);
    awaitState(id, "CANCELLED");
  }

  @Test
  void malformedJsonAndUnknownFieldsAreRejectedWholeNamingTheProblem() throws Exception {
    int before = jobCount();
    var malformed = post("api/v1/jobs", ALICE, "[{\"name\": \"a\", \"executable\": \"ok\"},");
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(malformed.errorCode()).isEqualTo("invalid");
    assertThat(malformed.json().path("error").path("message").asText())
        .contains("not valid JSON");

    var unknown = post("api/v1/jobs", ALICE, """
        [{"name": "good", "executable": "ok"}, {"name": "bad", "executable": "ok", "cpus": 4}]""");
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(unknown.json().path("error").path("problems").toString()).contains("cpus");

    var relative = post("api/v1/jobs", ALICE,
        "{\"name\": \"rel\", \"executable\": \"ok\", \"stdout\": \"out.txt\"}");
    assertThat(relative.status()).isEqualTo(400);
    assertThat(relative.json().path("error").path("message").asText())
        .contains("stdout").contains("absolute");
    // a URL is no path on the engine's machine: refused by the cluster that cannot fetch it
    var fromUrl = post("api/v1/jobs", ALICE, """
        {"name": "url", "executable": "ok",
         "inputs": [{"source": "http://127.0.0.1:9/in.dat", "destination": "in.dat"}]}""");
    assertThat(fromUrl.status()).isBetween(400, 499);
    assertThat(fromUrl.json().path("error").toString()).contains("inputs.source (a URL)")
        .doesNotContain("absolute");
    assertThat(jobCount()).isEqualTo(before);

    var badSelector = post("api/v1/jobs/kill", ALICE, "{\"ids\": [\"x\"], \"idz\": []}");
    assertThat(badSelector.status()).isEqualTo(400);
    assertThat(badSelector.json().path("error").path("message").asText()).contains("idz");
    var badJson = post("api/v1/jobs/kill", ALICE, "{\"ids\": [\"x\"");
    assertThat(badJson.status()).isEqualTo(400);
    assertThat(badJson.json().path("error").path("message").asText()).contains("malformed JSON");
    var badState = get("api/v1/jobs?state=sleeping", ALICE);
    assertThat(badState.status()).isEqualTo(400);
    assertThat(badState.json().path("error").path("message").asText()).contains("sleeping");
    var noSelection = post("api/v1/jobs/kill", ALICE, "{}");
    assertThat(noSelection.status()).isEqualTo(400);
    var wrongType = call("POST", "api/v1/jobs", ALICE, "text/plain", "x".getBytes());
    assertThat(wrongType.status()).isEqualTo(415);
    assertThat(wrongType.errorCode()).isEqualTo("unsupported_media_type");
  }

  @Test
  void refusesBodiesOverTheLimit() throws Exception {
    int before = jobCount();
    var big = "[" + String.join(",", java.util.Collections.nCopies(5000,
        job("big", "big", "ok"))) + "]";
    assertThat(big.length()).isGreaterThan((int) MAX_BODY);
    var a = post("api/v1/jobs", ALICE, big);
    assertThat(a.status()).isEqualTo(413);
    assertThat(a.errorCode()).isEqualTo("payload_too_large");
    assertThat(jobCount()).isEqualTo(before);
  }

  @Test
  void restartsOnlyOneDeadJobAndFlushRefusesALiveOne() throws Exception {
    var failed = submit(ALICE, job("flaky", "rs", "fail")).getFirst();
    awaitState(failed, "FAILED");
    var live = submit(ALICE, job("busy", "rs", "hang")).getFirst();
    awaitState(live, "RUNNING");

    var restartLive = post("api/v1/jobs/restart", ALICE, "{\"ids\": [\"" + live + "\"]}");
    assertThat(restartLive.status()).isEqualTo(409);
    var restartTwo = post("api/v1/jobs/restart", ALICE, "{\"sessions\": [\"rs\"]}");
    assertThat(restartTwo.status()).isEqualTo(409);
    assertThat(restartTwo.errorCode()).isEqualTo("conflict");
    var restartNone = post("api/v1/jobs/restart", ALICE, "{\"names\": [\"nothing-so\"]}");
    assertThat(restartNone.status()).isEqualTo(404);

    var flushLive = post("api/v1/jobs/flush", ALICE, "{\"sessions\": [\"rs\"]}");
    assertThat(flushLive.status()).isEqualTo(409);
    assertThat(state(failed)).isEqualTo("FAILED"); // nothing removed

    var restarted = post("api/v1/jobs/restart", ALICE, "{\"ids\": [\"" + failed + "\"]}");
    assertThat(restarted.status()).as(restarted.body()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(20)).until(() ->
        get("api/v1/jobs?id=" + failed, ALICE).json().path("jobs").get(0).path("attempt")
            .asInt() >= 2 && state(failed).equals("FAILED"));

    post("api/v1/jobs/kill", ALICE, "{\"ids\": [\"" + live + "\"]}");
    awaitState(live, "CANCELLED");
    var flushed = post("api/v1/jobs/flush", ALICE, "{\"sessions\": [\"rs\"]}");
    assertThat(flushed.status()).isEqualTo(200);
    assertThat(flushed.json().path("ids")).hasSize(2);
    await().atMost(Duration.ofSeconds(20)).until(() -> state(failed).equals("GONE"));
  }

  @Test
  void pausesAndResumesJobs() throws Exception {
    var id = submit(ALICE, job("pausable", "pr", "hang")).getFirst();
    awaitState(id, "RUNNING");
    var paused = post("api/v1/jobs/pause", ALICE, "{\"sessions\": [\"pr\"]}");
    assertThat(paused.json().path("ids").get(0).asText()).isEqualTo(id);
    awaitState(id, "PAUSED");
    var resumed = post("api/v1/jobs/resume", ALICE, "{\"ids\": [\"" + id + "\"]}");
    assertThat(resumed.json().path("ids").get(0).asText()).isEqualTo(id);
    awaitState(id, "RUNNING");
    ScriptedBackend.finish(id, 0);
    awaitState(id, "SUCCEEDED");
  }

  @Test
  @Timeout(60)
  void followsALogUntilTheJobEnds() throws Exception {
    var out = home.resolve("out/follow.out");
    var id = submit(ALICE, """
        {"name": "follow", "executable": "hang", "arguments": ["a", "b", "c"],
         "stdout": "%s"}""".formatted(out)).getFirst();
    awaitState(id, "RUNNING");
    var request = HttpRequest.newBuilder(server.url().resolve("api/v1/jobs/" + id
        + "/logs?lines=1&follow=true")).header("Authorization", "Bearer " + ALICE).build();
    var response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(response.statusCode()).isEqualTo(200);
    var lines = new java.util.concurrent.CopyOnWriteArrayList<String>();
    var reading = CompletableFuture.runAsync(() -> {
      try (var r = new BufferedReader(new InputStreamReader(response.body(),
          StandardCharsets.UTF_8))) {
        r.lines().forEach(lines::add);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    await().atMost(Duration.ofSeconds(10)).until(() -> lines.equals(List.of("c")));
    Files.writeString(out, "d\ne\n", java.nio.file.StandardOpenOption.APPEND);
    await().atMost(Duration.ofSeconds(10)).until(() -> lines.equals(List.of("c", "d", "e")));
    assertThat(reading).isNotDone();
    ScriptedBackend.finish(id, 0);
    reading.get(20, TimeUnit.SECONDS); // the stream ends with the job
    assertThat(lines).containsExactly("c", "d", "e");
  }

  @Test
  void listsBackendsAndServesItsOpenApiDocumentToAnyoneWithoutAToken() throws Exception {
    var backends = get("api/v1/backends", BOB);
    assertThat(backends.status()).isEqualTo(200);
    assertThat(backends.json().path("plugins").toString()).contains("scripted");
    assertThat(backends.json().path("clusters").get(0).path("name").asText()).isEqualTo("t");
    assertThat(backends.json().path("clusters").get(0).path("status").asText()).isEqualTo("ok");

    var doc = get("api/v1/openapi.yaml", null);
    assertThat(doc.status()).as(doc.body()).isEqualTo(200);
    assertThat(get("api/v1/backends", null).status()).as("only the document is public")
        .isEqualTo(401);
    assertThat(doc.body()).startsWith("openapi: 3.1.0").contains("/api/v1/jobs/{id}/logs");

    var missing = get("api/v1/nothing-here", BOB);
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.errorCode()).isEqualTo("not_found");
  }
}
