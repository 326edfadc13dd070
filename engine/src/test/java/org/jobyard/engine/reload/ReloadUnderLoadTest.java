package org.jobyard.engine.reload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.http.ScriptedBackend;
import org.jobyard.engine.http.TestEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /api/v1/reload} on a busy engine: a cap raised takes effect at once, a cluster added
 * takes jobs, a broken file and a busy cluster's removal are refused whole with the reason while
 * the configuration in force stays, a drained cluster is removed once its jobs have ended, and
 * every job ends exactly once.
 */
class ReloadUnderLoadTest {
  static final String ADMIN = "reload-admin-token-0123";
  static final String USER = "reload-user-token-01234";
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path home;

  String config(String clusters) {
    return """
        engine: {poll_interval: 100ms, retry_backoff: 100ms}
        api:
          listen: 127.0.0.1:0
          tokens: [{user: alice, token: %s, admin: true}, {user: bob, token: %s}]
        default_clusters: [d]
        clusters:
          d: {backend: scripted}
        %s""".formatted(ADMIN, USER, clusters.indent(2));
  }

  HttpResponse<String> call(TestEngine r, String method, String path, String token, String body)
      throws Exception {
    return r.call(method, path, token, body);
  }

  List<JsonNode> jobs(TestEngine r) throws Exception {
    var out = new ArrayList<JsonNode>();
    JSON.readTree(call(r, "GET", "api/v1/jobs", ADMIN, null).body()).path("jobs")
        .forEach(out::add);
    return out;
  }

  long count(TestEngine r, String state, String prefix) throws Exception {
    return jobs(r).stream().filter(j -> j.path("state").asText().equals(state)
        && j.path("name").asText().startsWith(prefix)).count();
  }

  List<String> clusters(TestEngine r) throws Exception {
    var out = new ArrayList<String>();
    JSON.readTree(call(r, "GET", "api/v1/backends", ADMIN, null).body()).path("clusters")
        .forEach(c -> out.add(c.path("name").asText()));
    return out;
  }

  @Test
  void aReloadUnderLoadRaisesACapAddsAClusterRefusesWhatItCannotTakeAndLosesNoJob()
      throws Exception {
    var conf = home.resolve("jobyard.yaml");
    try (var r = TestEngine.start(home, config("a: {backend: scripted, max_jobs: 2}"))) {
      r.engine().reloadFrom(() -> ConfigLoader.load(home, conf));
      var hanging = r.submit(ADMIN, IntStream.range(0, 6).mapToObj(i -> Map.of("name",
          "hang-" + i, "executable", "hang", "clusters", List.of("a"))).toList());
      await().atMost(Duration.ofSeconds(20)).until(() -> count(r, "RUNNING", "hang") == 2);
      await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(10))
          .until(() -> count(r, "QUEUED", "hang") == 4);

      assertThat(call(r, "POST", "api/v1/reload", USER, null).statusCode()).isEqualTo(403);

      // cap raised, cluster added
      Files.writeString(conf, config("""
          a: {backend: scripted, max_jobs: 4}
          b: {backend: scripted}
          """));
      var reloaded = call(r, "POST", "api/v1/reload", ADMIN, null);
      assertThat(reloaded.statusCode()).as(reloaded.body()).isEqualTo(200);
      assertThat(JSON.readTree(reloaded.body()).path("applied").toString())
          .contains("added cluster 'b' (scripted)").contains("retuned cluster 'a'");
      await().atMost(Duration.ofSeconds(20)).until(() -> count(r, "RUNNING", "hang") == 4);
      r.submit(ADMIN, IntStream.range(0, 5).mapToObj(i -> Map.of("name", "b-" + i,
          "executable", "ok", "clusters", List.of("b"))).toList());

      // a broken file, and a busy cluster's removal, are refused: the configuration stays
      Files.writeString(conf, config("""
          a: {backend: scripted, max_jobs: many}
          b: {backend: scripted}
          """));
      var broken = call(r, "POST", "api/v1/reload", ADMIN, null);
      assertThat(broken.statusCode()).isEqualTo(400);
      assertThat(broken.body()).contains("reload refused, the configuration in force stays")
          .contains("clusters.a.max_jobs").contains("many");
      Files.writeString(conf, config("b: {backend: scripted}"));
      var busy = call(r, "POST", "api/v1/reload", ADMIN, null);
      assertThat(busy.statusCode()).isEqualTo(400);
      assertThat(busy.body()).contains("cluster 'a' cannot be removed: it has 6 live or queued "
          + "job(s); drain it first");
      assertThat(clusters(r)).containsExactly("d", "a", "b");
      await().atMost(Duration.ofSeconds(30)).until(() -> count(r, "SUCCEEDED", "b-") == 5);
      assertThat(count(r, "RUNNING", "hang")).isEqualTo(4);

      // drained, it may go: it stays until its last job has ended
      assertThat(call(r, "POST", "api/v1/clusters/a/drain", ADMIN, null).statusCode())
          .isEqualTo(200);
      var removed = call(r, "POST", "api/v1/reload", ADMIN, null);
      assertThat(removed.statusCode()).as(removed.body()).isEqualTo(200);
      assertThat(removed.body()).contains("removed cluster 'a'");
      hanging.forEach(id -> ScriptedBackend.finish(id, 0));
      await().atMost(Duration.ofSeconds(30)).until(() -> count(r, "SUCCEEDED", "hang") == 4);
      assertThat(clusters(r)).as("two jobs still queued for it").contains("a");
      var kill = call(r, "POST", "api/v1/jobs/kill", ADMIN, "{\"states\": [\"QUEUED\"]}");
      assertThat(kill.statusCode()).as(kill.body()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(30)).until(() -> !clusters(r).contains("a"));

      var all = jobs(r);
      assertThat(all).hasSize(11);
      assertThat(all).allSatisfy(j -> {
        assertThat(j.path("state").asText()).isIn("SUCCEEDED", "CANCELLED");
        assertThat(j.path("attempt").asInt()).as("job %s", j.path("id")).isLessThanOrEqualTo(1);
      });
      assertThat(all).filteredOn(j -> j.path("state").asText().equals("CANCELLED")).hasSize(2);
    }
  }

  @Test
  void aDrainedClusterWithARetryWaitingOutItsDelayIsNotRemovedUnderIt() throws Exception {
    var conf = home.resolve("jobyard.yaml");
    try (var r = TestEngine.start(home, config("a: {backend: scripted}"))) {
      r.engine().reloadFrom(() -> ConfigLoader.load(home, conf));
      var id = r.submit(ADMIN, List.of(Map.of("name", "later", "executable", "hang",
          "clusters", List.of("a"), "retries", 1, "retry_delay", "1h"))).getFirst();
      await().atMost(Duration.ofSeconds(20)).until(() -> count(r, "RUNNING", "later") == 1);
      ScriptedBackend.finish(id, 3); // fails: the retry waits an hour, counted nowhere else
      await().atMost(Duration.ofSeconds(20)).until(() -> count(r, "QUEUED", "later") == 1);

      assertThat(call(r, "POST", "api/v1/clusters/a/drain", ADMIN, null).statusCode())
          .isEqualTo(200);
      Files.writeString(conf, config(""));
      var removed = call(r, "POST", "api/v1/reload", ADMIN, null);
      assertThat(removed.statusCode()).as(removed.body()).isEqualTo(200);

      assertThat(clusters(r)).as("the waiting retry keeps its cluster").contains("a");
      var kill = call(r, "POST", "api/v1/jobs/kill", ADMIN, "{\"states\": [\"QUEUED\"]}");
      assertThat(kill.statusCode()).as(kill.body()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(30)).until(() -> !clusters(r).contains("a"));
    }
  }
}
