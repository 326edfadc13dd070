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
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing lost, nothing run twice: the daemon from the unpacked tarball is killed (SIGKILL) and
 * stopped (SIGTERM) at random instants while it works, restarted each time, and every job it
 * acknowledged must end exactly once.
 */
class CrashSafetyIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir
  Path tmp;
  Tarball tarball;
  Path work;
  Process engine;
  final Random random = new Random();

  @BeforeEach
  void unpack() throws Exception {
    tarball = Tarball.unpack(Files.createDirectory(tmp.resolve("dist")));
    work = Files.createDirectory(tmp.resolve("work"));
    Files.writeString(tarball.home.resolve("conf/jobyard.yaml"), database() + """
        engine: {poll_interval: 1s}
        clusters:
          local: {backend: local, slots: 16}
        """);
  }

  /** The store's settings: the embedded H2 here; PostgreSQL in {@link CrashSafetyOnPostgresIT}. */
  String database() {
    return "";
  }

  @AfterEach
  void stopEngine() throws Exception {
    if (engine != null && engine.isAlive()) {
      engine.destroy();
      engine.waitFor(60, TimeUnit.SECONDS);
    }
  }

  void startEngine() throws Exception {
    var url = tarball.home.resolve("var/run/engine.url");
    Files.deleteIfExists(url);
    var pb = new ProcessBuilder(tarball.home.resolve("bin/jobyard").toString(), "engine")
        .directory(work.toFile())
        .redirectOutput(ProcessBuilder.Redirect.appendTo(tmp.resolve("engine.out").toFile()))
        .redirectErrorStream(true);
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    engine = pb.start();
    // generous: a start on a fresh PostgreSQL schema migrates it, on a loaded 2-core machine
    await().atMost(Duration.ofSeconds(150)).until(() -> Files.exists(url) || !engine.isAlive());
    assertThat(engine.isAlive()).as("engine started; its output:\n%s", engineOutput()).isTrue();
  }

  String engineOutput() throws Exception {
    var f = tmp.resolve("engine.out");
    return Files.exists(f) ? Files.readString(f) : "";
  }

  HttpResponse<String> call(String method, String path, String body) throws Exception {
    var base = Files.readString(tarball.home.resolve("var/run/engine.url")).strip();
    var token = Files.readString(tarball.home.resolve("var/run/token")).strip();
    var request = HttpRequest.newBuilder(URI.create(base.endsWith("/") ? base + path
            : base + "/" + path))
        .header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(60))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body))
        .build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }

  Map<String, String> states() throws Exception {
    var answer = call("GET", "api/v1/jobs", null);
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    var out = new TreeMap<String, String>();
    for (JsonNode j : JSON.readTree(answer.body()).path("jobs")) {
      out.put(j.path("id").asText(), j.path("state").asText());
    }
    return out;
  }

  /** Waits a random time: the randomness of the instant is what this test is about. */
  void randomPause(int minMillis, int maxMillis) {
    var pause = Duration.ofMillis(minMillis + random.nextInt(maxMillis - minMillis));
    await().pollDelay(pause).atMost(pause.plusSeconds(5)).until(() -> true);
  }

  @Test
  void everyJobRunsExactlyOnceAcrossRepeatedSigkills() throws Exception {
    var ran = work.resolve("ran.txt");
    Files.writeString(work.resolve("jobs.yaml"), """
        sweep: {n: {from: 1, to: 300}}
        job:
          name: 'append-${n}'
          executable: /bin/sh
          arguments: [-c, 'sleep 0.$(($1 %% 7)); echo "job-$1" >> "$2"', sh, '${n}', '%s']
        """.formatted(ran));
    startEngine();
    var submitted = tarball.run(work, Duration.ofMinutes(2), "submit", "-o", "json", "jobs.yaml");
    assertThat(submitted.exitCode()).as(submitted.toString()).isZero();
    var ids = new ArrayList<String>();
    JSON.readTree(submitted.stdout()).path("ids").forEach(i -> ids.add(i.asText()));
    assertThat(ids).hasSize(300);

    for (int kill = 0; kill < 4; kill++) {
      randomPause(300, 2500);
      engine.destroyForcibly(); // SIGKILL: no shutdown hook, no orderly stop
      assertThat(engine.waitFor(30, TimeUnit.SECONDS)).isTrue();
      startEngine();
    }
    await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).until(() ->
        states().values().stream().allMatch(s -> s.equals("SUCCEEDED") || s.equals("FAILED")
            || s.equals("CANCELLED")));
    var states = states();
    assertThat(states.keySet()).containsAll(ids);
    assertThat(states.values()).as("every job reported as succeeded")
        .containsOnly("SUCCEEDED");
    assertThat(engineOutput()).as("some kill caught jobs in flight, which a restart recovered")
        // (on PostgreSQL the new engine takes its killed predecessor's jobs over by its lease)
        .containsPattern("(recovered|took over) [1-9][0-9]* live job");
    var lines = Files.readAllLines(ran);
    Map<String, Long> counts = lines.stream()
        .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    var twice = counts.entrySet().stream().filter(e -> e.getValue() > 1).toList();
    assertThat(twice).as("jobs that ran more than once").isEmpty();
    assertThat(counts).hasSize(300);
  }

  @Test
  void aWaitingDependencyChainSurvivesASigkillAndRunsEachJobOnceInOrder() throws Exception {
    var ran = work.resolve("chain.txt");
    var step = "sleep 1; echo \"$1\" >> \"$2\"";
    Files.writeString(work.resolve("chain.yaml"), """
        - {name: c1, executable: /bin/sh, arguments: [-c, '%1$s', sh, c1, '%2$s']}
        - {name: c2, executable: /bin/sh, arguments: [-c, '%1$s', sh, c2, '%2$s'], after: [c1]}
        - {name: c3, executable: /bin/sh, arguments: [-c, '%1$s', sh, c3, '%2$s'], after: [c2]}
        - {name: c4, executable: /bin/sh, arguments: [-c, '%1$s', sh, c4, '%2$s'], after: [c3]}
        """.formatted(step, ran));
    startEngine();
    var submitted = tarball.run(work, Duration.ofMinutes(2), "submit", "-o", "json",
        "chain.yaml");
    assertThat(submitted.exitCode()).as(submitted.toString()).isZero();
    // the first job is running and the rest wait for it when the engine dies
    await().atMost(Duration.ofSeconds(60)).until(() -> states().containsValue("RUNNING"));
    engine.destroyForcibly(); // SIGKILL
    assertThat(engine.waitFor(30, TimeUnit.SECONDS)).isTrue();
    startEngine();
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).until(() ->
        states().values().stream().allMatch(s -> s.equals("SUCCEEDED") || s.equals("FAILED")
            || s.equals("CANCELLED")));
    assertThat(states().values()).containsOnly("SUCCEEDED").hasSize(4);
    assertThat(Files.readAllLines(ran)).as("each job once, in order")
        .containsExactly("c1", "c2", "c3", "c4");
  }

  @Test
  void sigtermDuringABurstOfSubmissionsExitsCleanlyAndLosesNoAcknowledgedJob()
      throws Exception {
    startEngine();
    var acknowledged = Collections.synchronizedList(new ArrayList<String>());
    var stop = new AtomicBoolean();
    var submitter = Thread.ofPlatform().start(() -> {
      int n = 0;
      while (!stop.get()) {
        try {
          var answer = call("POST", "api/v1/jobs",
              "{\"name\": \"burst-" + (n++) + "\", \"executable\": \"true\"}");
          if (answer.statusCode() == 200 || answer.statusCode() == 201) {
            JSON.readTree(answer.body()).path("ids").forEach(i -> acknowledged.add(i.asText()));
          }
        } catch (Exception e) {
          return; // the engine went away: only acknowledged jobs count
        }
      }
    });
    await().atMost(Duration.ofSeconds(60)).until(() -> acknowledged.size() >= 30);
    engine.destroy(); // SIGTERM
    assertThat(engine.waitFor(60, TimeUnit.SECONDS)).as("engine stops within 60 s").isTrue();
    assertThat(engine.exitValue()).as(engineOutput()).isZero();
    stop.set(true);
    submitter.join(Duration.ofSeconds(70));
    var acked = List.copyOf(acknowledged);
    startEngine();
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() ->
        states().entrySet().stream().filter(e -> acked.contains(e.getKey()))
            .allMatch(e -> e.getValue().equals("SUCCEEDED")));
    assertThat(states().keySet()).containsAll(acked);
  }
}
