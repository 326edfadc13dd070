package org.jobyard.engine.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.JobState;
import org.jobyard.engine.Engine;
import org.jobyard.engine.cli.Main;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.control.JobControl;
import org.jobyard.engine.store.JobQuery;
import org.jobyard.engine.store.StoreUnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL goes away under load for longer than the engine used to survive (5 failures of 30 s
 * connection waits in 5 minutes stopped it after about 3 minutes): the engine stays up, the API
 * answers 503 "store unavailable" within a second meanwhile, and afterwards every job ends
 * exactly once. Runs its own PostgreSQL (initdb with the testbed's binaries, on a free port),
 * never the shared one, since it stops it.
 */
@Tag("testbed")
class StoreOutageTest {
  private static final String TOKEN = "outage-token-0123456789abcdef";
  /** Longer than the old engine survived; {@code -Djobyard.outageSeconds=20} while iterating. */
  private static final long OUTAGE_SECONDS = Long.getLong("jobyard.outageSeconds", 200);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();
  private PrivatePostgres pg;
  private Path home;
  private Engine engine;
  private ApiServer server;

  record Answer(int status, JsonNode body, String retryAfter, long millis) {}

  private Answer call(String method, String path, String body) throws Exception {
    var request = HttpRequest.newBuilder(URI.create(server.url() + path.substring(1)))
        .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(30));
    if (body != null) {
      request.header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    long start = System.nanoTime();
    var response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
    return new Answer(response.statusCode(), JSON.readTree(response.body()),
        response.headers().firstValue("Retry-After").orElse(null), millis);
  }

  static String jobs(String prefix, String executable, int n) {
    var list = new ArrayList<String>();
    for (int i = 0; i < n; i++) {
      list.add("{\"name\": \"" + prefix + i + "\", \"executable\": \"" + executable + "\"}");
    }
    return "[" + String.join(",", list) + "]";
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (server != null) {
      server.close();
    }
    if (engine != null) {
      engine.close();
    }
    if (pg != null) {
      pg.close();
    }
  }

  @Test
  void aPostgresOutageLongerThanTheOldLimitIsWaitedOutAndEveryJobEndsOnce() throws Exception {
    pg = PrivatePostgres.start("outage");
    int port = pg.port;

    home = Files.createTempDirectory("jobyard-outage-home");
    var conf = home.resolve("jobyard.yaml");
    Files.writeString(conf, """
        database: {url: "jdbc:postgresql://127.0.0.1:%d/postgres", user: postgres, password: x}
        engine: {poll_interval: 200ms, retry_backoff: 200ms}
        clusters:
          t: {backend: scripted, users: [alice]}
        api:
          listen: 127.0.0.1:0
          tokens:
            - {user: alice, token: %s}
        """.formatted(port, TOKEN));
    var config = ConfigLoader.load(home, conf);
    engine = Engine.create(config).start();
    server = new ApiServer(new JobControl(engine), new Authenticator(config.api().tokens()),
        config.api().listen()).start();

    // load: jobs that end at once and jobs that end during the outage
    var quick = call("POST", "/api/v1/jobs", jobs("quick", "ok", 20));
    var slow = call("POST", "/api/v1/jobs", jobs("slow", "hang", 20));
    assertThat(quick.status()).isEqualTo(201);
    assertThat(slow.status()).isEqualTo(201);
    var ids = new ArrayList<String>();
    quick.body().path("ids").forEach(n -> ids.add(n.asText()));
    var slowIds = new ArrayList<String>();
    slow.body().path("ids").forEach(n -> slowIds.add(n.asText()));
    ids.addAll(slowIds);
    var store = engine.store();
    await().atMost(Duration.ofSeconds(60)).until(() -> slowIds.stream().allMatch(id ->
        store.job(id).orElseThrow().state() == JobState.RUNNING));

    pg.stop();
    long down = System.nanoTime();
    var slowest = new long[1];
    try {
      // the jobs end while the store is away: their ends wait in the engine
      slowIds.forEach(id -> ScriptedBackend.finish(id, 0));
      // the command line says so in one line, and exits 3 (the engine cannot do it now)
      Files.createDirectories(home.resolve("var/run"));
      // this installation's engine and token, as `jobyard engine` writes them (the CLI sends
      // the var/run token only to the var/run URL)
      Files.writeString(home.resolve("var/run/token"), TOKEN + "\n");
      Files.writeString(home.resolve("var/run/engine.url"), server.url() + "\n");
      System.setProperty("jobyard.home", home.toString());
      var out = new StringWriter();
      var err = new StringWriter();
      int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "ps");
      System.clearProperty("jobyard.home");
      assertThat(exit).as("jobyard ps exit status; stderr: %s", err).isEqualTo(3);
      assertThat(err.toString().strip().lines()).as("jobyard ps during the outage")
          .singleElement().asString().contains("store unavailable");
      var seen503 = new java.util.concurrent.atomic.AtomicInteger();
      // probe every 2 s until the outage has lasted its full length; every probe must pass
      await().pollInterval(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(OUTAGE_SECONDS + 120))
          .until(() -> {
            for (var answer : List.of(call("GET", "/api/v1/jobs", null),
                call("POST", "/api/v1/jobs", jobs("during", "ok", 1)),
                call("GET", "/api/v1/health", null))) {
              slowest[0] = Math.max(slowest[0], answer.millis());
              assertThat(answer.status()).as("answer during the outage: %s", answer.body())
                  .isEqualTo(503);
              assertThat(answer.retryAfter()).as("Retry-After").isNotNull();
              assertThat(answer.body().toString()).contains("store unavailable")
                  .doesNotContain("Connection is not available");
              seen503.incrementAndGet();
            }
            assertThat(engine.fatal()).as("the engine must not give up on an outage").isNotDone();
            return System.nanoTime() - down >= TimeUnit.SECONDS.toNanos(OUTAGE_SECONDS);
          });
      System.out.printf("PostgreSQL down for %d s: %d answers, all 503, slowest %d ms%n",
          Duration.ofNanos(System.nanoTime() - down).toSeconds(), seen503.get(), slowest[0]);
      // within a second, with room for a loaded CI machine
      assertThat(slowest[0]).as("the slowest answer during the outage, in ms")
          .isLessThan(1500);
    } finally {
      pg.start();
    }

    // afterwards: the engine resumes by itself, and every job ends exactly once
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
        .ignoreExceptionsInstanceOf(StoreUnavailableException.class)
        .until(() -> ids.stream().allMatch(id ->
            store.job(id).orElseThrow().state() == JobState.SUCCEEDED));
    assertThat(engine.fatal()).isNotDone();
    for (var id : ids) {
      assertThat(store.attempts(id)).as("attempts of %s", id).singleElement();
      assertThat(ScriptedBackend.JOBS.keySet().stream().filter(t -> t.startsWith(id + ".")))
          .as("native jobs of %s", id).containsExactly(id + ".1");
    }
    assertThat(call("GET", "/api/v1/health", null).status()).isEqualTo(200);
    assertThat(call("POST", "/api/v1/jobs", jobs("after", "ok", 1)).status()).isEqualTo(201);
    assertThat(store.find(JobQuery.all())).as("no submit during the outage was stored")
        .noneMatch(r -> r.name().startsWith("during"));
  }
}
