package org.jobyard.engine.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jobyard.api.JobState;
import org.jobyard.engine.Engine;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.control.JobControl;
import org.jobyard.engine.store.StoreUnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: two engines (homes of their own) share a PostgreSQL of the test's own, jobs submitted
 * all to one are shared out by capacity, and the database is restarted while both run them: both
 * answer 503 meanwhile, then every job ends exactly once (one attempt, one native job).
 */
@Tag("testbed")
class TwoEnginesStoreRestartTest {
  private static final String TOKEN = "restart-token-0123456789abcdef";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    for (var c : open.reversed()) {
      c.close();
    }
  }

  record Running(Engine engine, ApiServer server) {}

  private Running engine(PrivatePostgres pg, String name) throws Exception {
    var home = Files.createTempDirectory("jobyard-restart-" + name);
    var conf = home.resolve("jobyard.yaml");
    Files.writeString(conf, """
        database: {url: "%s", user: postgres, password: x, lease: 10s}
        engine: {poll_interval: 200ms, retry_backoff: 200ms}
        clusters:
          t: {backend: scripted, users: [alice], max_jobs: 3}
        api:
          listen: 127.0.0.1:0
          tokens:
            - {user: alice, token: %s}
        """.formatted(pg.url(), TOKEN));
    var config = ConfigLoader.load(home, conf);
    var engine = Engine.create(config).start();
    open.add(engine::close);
    var server = new ApiServer(new JobControl(engine), new Authenticator(config.api().tokens()),
        config.api().listen()).start();
    open.add(server::close);
    return new Running(engine, server);
  }

  private HttpResponse<String> call(Running e, String method, String body) throws Exception {
    var request = HttpRequest.newBuilder(e.server().url().resolve("api/v1/jobs"))
        .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(30));
    request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static long running(Engine e, List<String> ids) {
    return ids.stream().filter(id -> e.store().job(id).orElseThrow().state() == JobState.RUNNING)
        .count();
  }

  @Test
  void aPostgresRestartUnderTwoEnginesLosesAndDuplicatesNoJobAndBothAnswer503Meanwhile()
      throws Exception {
    var pg = PrivatePostgres.start("restart");
    open.add(pg);
    var a = engine(pg, "a");
    var b = engine(pg, "b");

    var submitted = call(a, "POST", StoreOutageTest.jobs("shared", "hang", 16));
    assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(201);
    var ids = new ArrayList<String>();
    JSON.readTree(submitted.body()).path("ids").forEach(n -> ids.add(n.asText()));
    // max_jobs 3 on each engine: six running at once means b runs jobs submitted to a
    await().atMost(Duration.ofSeconds(90)).until(() -> running(a.engine(), ids) == 6);

    pg.stop();
    try {
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        for (var e : List.of(a, b)) {
          var answer = call(e, "GET", null);
          assertThat(answer.statusCode()).as(answer.body()).isEqualTo(503);
          assertThat(answer.body()).contains("store unavailable");
        }
      });
      // the running jobs end while the database is away: their ends wait in the engines
      ids.forEach(id -> ScriptedBackend.finish(id, 0));
    } finally {
      pg.start();
    }

    // the others end as soon as they run (each is finished once it reached the batch system)
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
        .ignoreExceptionsInstanceOf(StoreUnavailableException.class)
        .until(() -> {
          ids.forEach(id -> ScriptedBackend.finish(id, 0));
          return ids.stream().allMatch(id ->
              a.engine().store().job(id).orElseThrow().state() == JobState.SUCCEEDED);
        });
    for (var e : List.of(a, b)) {
      assertThat(e.engine().fatal()).as("no engine gave up on the restart").isNotDone();
      assertThat(call(e, "GET", null).statusCode()).isEqualTo(200);
    }
    for (var id : ids) {
      assertThat(a.engine().store().attempts(id)).as("attempts of %s", id).singleElement();
      assertThat(ScriptedBackend.JOBS.keySet().stream().filter(t -> t.startsWith(id + ".")))
          .as("native jobs of %s", id).containsExactly(id + ".1");
    }
  }
}
