package org.jobyard.engine.drain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jobyard.engine.http.TestEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code drain}/{@code undrain} on a real engine with its API, across a restart. */
class DrainThroughTheApiTest {
  static final String ADMIN = "drain-admin-token-0123";
  static final String USER = "drain-user-token-01234";
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path home;

  TestEngine start() throws Exception {
    return TestEngine.start(home, """
        engine: {poll_interval: 100ms, retry_backoff: 100ms}
        clusters:
          a: {backend: scripted, users: ['*']}
          b: {backend: scripted, users: ['*']}
        default_clusters: [a]
        api:
          listen: 127.0.0.1:0
          tokens: [{user: alice, token: %s, admin: true}, {user: bob, token: %s}]
        """.formatted(ADMIN, USER));
  }

  HttpResponse<String> call(TestEngine r, String method, String path, String token, String body)
      throws Exception {
    return r.call(method, path, token, body);
  }

  JsonNode submissions(TestEngine r, String cluster) throws Exception {
    for (var c : JSON.readTree(call(r, "GET", "api/v1/backends", ADMIN, null).body())
        .path("clusters")) {
      if (c.path("name").asText().equals(cluster)) {
        return c.path("submissions");
      }
    }
    throw new AssertionError("no cluster " + cluster);
  }

  JsonNode job(TestEngine r, String id) throws Exception {
    return JSON.readTree(call(r, "GET", "api/v1/jobs?id=" + id, ADMIN, null).body())
        .path("jobs").get(0);
  }

  @Test
  void aDrainedClusterTakesNoNewJobsKeepsItsDrainAcrossARestartAndTakesThemWhenUndrained()
      throws Exception {
    String stays;
    try (var r = start()) {
      var refused = call(r, "POST", "api/v1/clusters/a/drain", USER, null);
      assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
      assertThat(refused.body()).contains("only an admin");
      var unknown = call(r, "POST", "api/v1/clusters/nope/drain", ADMIN, null);
      assertThat(unknown.statusCode()).isEqualTo(404);
      assertThat(unknown.body()).contains("no cluster named 'nope'").contains("[a, b]");
      var badBody = call(r, "POST", "api/v1/clusters/a/drain", ADMIN, "{\"why\": 1}");
      assertThat(badBody.statusCode()).isEqualTo(400);
      assertThat(badBody.body()).contains("unknown field 'why'");
      assertThat(submissions(r, "a").path("state").asText()).isEqualTo("open");

      var drained = call(r, "POST", "api/v1/clusters/a/drain", ADMIN,
          "{\"reason\": \"kernel update\"}");
      assertThat(drained.statusCode()).as(drained.body()).isEqualTo(200);
      var a = submissions(r, "a");
      assertThat(a.path("state").asText()).isEqualTo("drained");
      assertThat(a.path("drained_by").asText()).isEqualTo("alice");
      assertThat(a.path("reason").asText()).isEqualTo("kernel update");
      assertThat(submissions(r, "b").path("state").asText()).isEqualTo("open");

      var ids = r.submit(ADMIN, List.of(
          Map.of("name", "elsewhere", "executable", "ok", "clusters", List.of("a", "b")),
          Map.of("name", "stays", "executable", "ok", "clusters", List.of("a"))));
      await().atMost(Duration.ofSeconds(30)).until(() ->
          job(r, ids.get(0)).path("state").asText().equals("SUCCEEDED"));
      assertThat(job(r, ids.get(0)).path("cluster").asText()).isEqualTo("b");
      assertThat(job(r, ids.get(0)).path("reason").asText())
          .contains("cluster 'a' is drained (kernel update); sent to cluster 'b'");
      stays = ids.get(1);
      await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(10)).until(() ->
          job(r, stays).path("state").asText().equals("QUEUED"));
      assertThat(job(r, stays).path("reason").asText()).as("says why it waits")
          .isEqualTo("cluster 'a' is drained (kernel update); waiting until it takes jobs again");
    }
    try (var r = start()) {
      assertThat(submissions(r, "a").path("state").asText()).as("kept across the restart")
          .isEqualTo("drained");
      await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(10)).until(() ->
          job(r, stays).path("state").asText().equals("QUEUED"));
      var undrained = call(r, "POST", "api/v1/clusters/a/undrain", ADMIN, null);
      assertThat(undrained.statusCode()).as(undrained.body()).isEqualTo(200);
      assertThat(JSON.readTree(undrained.body()).path("state").asText()).isEqualTo("open");
      await().atMost(Duration.ofSeconds(30)).until(() ->
          job(r, stays).path("state").asText().equals("SUCCEEDED"));
      assertThat(job(r, stays).path("cluster").asText()).isEqualTo("a");
      var again = call(r, "POST", "api/v1/clusters/a/undrain", ADMIN, null);
      assertThat(again.statusCode()).isEqualTo(409);
      assertThat(again.body()).contains("cluster 'a' is not drained");
    }
  }
}
