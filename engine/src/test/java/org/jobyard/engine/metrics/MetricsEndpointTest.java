package org.jobyard.engine.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jobyard.api.Command;
import org.jobyard.engine.config.ConfigException;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.http.ScriptedBackend;
import org.jobyard.engine.http.TestEngine;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /metrics}, {@code /healthz} and {@code /readyz} of a real engine during a run. */
class MetricsEndpointTest {
  static final String TOKEN = "metrics-test-token-0123";
  static final ObjectMapper JSON = new ObjectMapper();
  final HttpClient http = HttpClient.newHttpClient();

  @TempDir
  Path home;

  TestEngine start(String extra) throws Exception {
    return TestEngine.start(home, """
        engine: {poll_interval: 100ms, retry_backoff: 100ms}
        clusters:
          t: {backend: scripted}
        api:
          listen: 127.0.0.1:0
          tokens: [{user: alice, token: %s}]
        %s
        """.formatted(TOKEN, extra));
  }

  HttpResponse<String> get(TestEngine r, String path, String token) throws Exception {
    var b = HttpRequest.newBuilder(r.server().url().resolve(path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  List<String> submit(TestEngine r, String executable, int count) throws Exception {
    var jobs = new ArrayList<Map<String, Object>>();
    for (int i = 0; i < count; i++) {
      jobs.add(Map.of("name", executable + "-" + i, "executable", executable));
    }
    return r.submit(TOKEN, jobs);
  }

  String state(TestEngine r, String id) throws Exception {
    var jobs = JSON.readTree(get(r, "api/v1/jobs?id=" + id, TOKEN).body()).path("jobs");
    return jobs.isEmpty() ? "GONE" : jobs.get(0).path("state").asText();
  }

  void awaitStates(TestEngine r, List<String> ids, String state) {
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      for (var id : ids) {
        if (!state(r, id).equals(state)) {
          return false;
        }
      }
      return true;
    });
  }

  List<PrometheusText.Sample> scrape(TestEngine r) throws Exception {
    var a = get(r, "metrics", null);
    assertThat(a.statusCode()).as(a.body()).isEqualTo(200);
    assertThat(a.headers().firstValue("content-type").orElse("")).startsWith("text/plain");
    return PrometheusText.parse(a.body());
  }

  @Test
  void countsTheJobsOfARunWhileItRunsAndAfter() throws Exception {
    PrometheusText.requireParser();
    try (var r = start("")) {
      var ok = submit(r, "ok", 4);
      var failed = submit(r, "fail", 2);
      var hanging = submit(r, "hang", 1);
      awaitStates(r, ok, "SUCCEEDED");
      awaitStates(r, failed, "FAILED");
      awaitStates(r, hanging, "RUNNING");

      // during the run: one job still running, its cluster answering
      var s = scrape(r);
      var t = Map.of("cluster", "t");
      assertThat(PrometheusText.value(s, "jobyard_jobs", Map.of("state", "succeeded",
          "cluster", "t"))).isEqualTo(4);
      assertThat(PrometheusText.value(s, "jobyard_jobs", Map.of("state", "failed",
          "cluster", "t"))).isEqualTo(2);
      assertThat(PrometheusText.value(s, "jobyard_jobs", Map.of("state", "running",
          "cluster", "t"))).isEqualTo(1);
      assertThat(PrometheusText.value(s, "jobyard_jobs_submitted_total", t)).isEqualTo(7);
      assertThat(PrometheusText.value(s, "jobyard_jobs_finished_total", Map.of("cluster", "t",
          "state", "succeeded"))).isEqualTo(4);
      assertThat(PrometheusText.value(s, "jobyard_job_failures_total", Map.of("cluster", "t",
          "kind", "exit_code"))).isEqualTo(2);
      assertThat(PrometheusText.value(s, "jobyard_cluster_live_jobs", t)).isEqualTo(1);
      assertThat(PrometheusText.value(s, "jobyard_cluster_queue_depth", t)).isZero();
      assertThat(PrometheusText.value(s, "jobyard_cluster_up", t)).isEqualTo(1);
      // six jobs ended: at least one poll saw ends, and no more collect tasks than ended jobs
      double collects = PrometheusText.value(s, "jobyard_cluster_collect_tasks_total", t);
      assertThat(collects).isBetween(1.0, 6.0);
      assertThat(PrometheusText.value(s, "jobyard_store_up", Map.of())).isEqualTo(1);
      // latencies are histograms: each call observed once, in cumulative buckets
      double submits = PrometheusText.value(s, "jobyard_backend_call_seconds_count",
          Map.of("cluster", "t", "call", "submit"));
      assertThat(submits).isBetween(1.0, 7.0);
      assertThat(PrometheusText.value(s, "jobyard_backend_call_seconds_bucket",
          Map.of("cluster", "t", "call", "submit", "le", "+Inf"))).isEqualTo(submits);
      assertThat(PrometheusText.value(s, "jobyard_backend_call_seconds_count",
          Map.of("cluster", "t", "call", "poll"))).isPositive();
      assertThat(PrometheusText.value(s, "jobyard_store_commit_seconds_count", Map.of()))
          .isPositive();
      // every change of the run went through a commit: at least the 7 inserts
      assertThat(PrometheusText.value(s, "jobyard_store_commit_changes_sum", Map.of()))
          .isGreaterThanOrEqualTo(7);
      assertThat(s).anyMatch(x -> x.name().startsWith("jvm_memory"));

      // the last job ends: the gauges move, the counters add up
      ScriptedBackend.finish(hanging.getFirst(), 0);
      awaitStates(r, hanging, "SUCCEEDED");
      var after = scrape(r);
      assertThat(PrometheusText.value(after, "jobyard_cluster_collect_tasks_total", t))
          .as("the last end was collected by a task of its own").isGreaterThan(collects);
      assertThat(PrometheusText.value(after, "jobyard_jobs", Map.of("state", "succeeded",
          "cluster", "t"))).isEqualTo(5);
      assertThat(PrometheusText.valueOrZero(after, "jobyard_jobs", Map.of("state", "running")))
          .isZero();
      assertThat(PrometheusText.value(after, "jobyard_jobs_finished_total", Map.of("cluster",
          "t", "state", "succeeded"))).isEqualTo(5);
    }
  }

  @Test
  void showsTheSshPoolOfAClusterReachedOverSsh() throws Exception {
    PrometheusText.requireParser();
    Testbed.require(Testbed.SSH);
    var transport = "{type: ssh, host: %s, port: %s, user: %s, identity: %s, known_hosts: %s}"
        .formatted(Testbed.get("SSH_HOST"), Testbed.get("SSH_PORT"), Testbed.get("SSH_USER"),
            Testbed.get("SSH_IDENTITY"), Testbed.get("SSH_KNOWN_HOSTS"));
    try (var r = TestEngine.start(home, """
        clusters:
          s: {backend: scripted, transport: %s}
        """.formatted(transport))) {
      var before = scrape(r);
      assertThat(PrometheusText.value(before, "jobyard_ssh_handshakes_total",
          Map.of("cluster", "s"))).isZero();
      var cluster = r.engine().clusters().getFirst();
      assertThat(cluster.transport().run(Command.of("true")).exitCode()).isZero();

      var after = scrape(r);
      var s = Map.of("cluster", "s");
      assertThat(PrometheusText.value(after, "jobyard_ssh_handshakes_total", s)).isEqualTo(1);
      assertThat(PrometheusText.value(after, "jobyard_ssh_connections", s)).isEqualTo(1);
      assertThat(PrometheusText.value(after, "jobyard_ssh_channels_in_use", s)).isZero();
      assertThat(PrometheusText.value(after, "jobyard_ssh_connect_failures_total", s)).isZero();
    }
  }

  @Test
  void servesMetricsOnlyToAllowedAddressesAndHealthToAnyone() throws Exception {
    try (var r = start("metrics: {allow: [192.0.2.0/24]}")) {
      var refused = get(r, "metrics", TOKEN);
      assertThat(refused.statusCode()).isEqualTo(403);
      assertThat(refused.body()).contains("metrics.allow").contains("127.0.0.1")
          .doesNotContain("192.0.2").doesNotContain("jobyard_jobs");

      var alive = get(r, "healthz", null);
      assertThat(alive.statusCode()).isEqualTo(200);
      var ready = get(r, "readyz", null);
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
      JsonNode body = JSON.readTree(ready.body());
      assertThat(body.path("status").asText()).isEqualTo("ready");
      assertThat(body.path("checks").path("store").asText()).isEqualTo("ok");
      assertThat(body.path("checks").path("cluster:t").asText()).isEqualTo("ok");

      // the store goes away under a live API: not ready, and the answer says which check failed
      r.engine().close();
      var down = get(r, "readyz", null);
      assertThat(down.statusCode()).isEqualTo(503);
      assertThat(JSON.readTree(down.body()).path("checks").path("store").asText())
          .isEqualTo("failing");
    }
  }

  @Test
  void allowListsMatchRangesAndSingleAddressesOfBothFamilies() throws Exception {
    var list = AllowList.parse(List.of("127.0.0.0/8", "10.1.2.3", "::1/128", "fd00::/8"));
    assertThat(list.allows(InetAddress.getByName("127.9.9.9"))).isTrue();
    assertThat(list.allows(InetAddress.getByName("10.1.2.3"))).isTrue();
    assertThat(list.allows(InetAddress.getByName("10.1.2.4"))).isFalse();
    assertThat(list.allows(InetAddress.getByName("::1"))).isTrue();
    assertThat(list.allows(InetAddress.getByName("fd12::5"))).isTrue();
    assertThat(list.allows(InetAddress.getByName("fe80::1"))).isFalse();
    assertThat(list.allows(InetAddress.getByName("192.168.0.1"))).isFalse();
    assertThat(AllowList.parse(List.of("0.0.0.0/0")).allows(InetAddress.getByName("8.8.8.8")))
        .isTrue();
  }

  @Test
  void refusesAConfigurationWhoseAllowListIsNotAddresses() throws Exception {
    var conf = home.resolve("bad.yaml");
    Files.writeString(conf, "metrics: {allow: [127.0.0.1/33, prometheus.example.org]}\n");
    assertThatThrownBy(() -> ConfigLoader.load(home, conf))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("metrics.allow")
        .hasMessageContaining("127.0.0.1/33")
        .hasMessageContaining("prometheus.example.org");
  }

  @Test
  void classifiesFailuresIntoBoundedKinds() {
    assertThat(EngineMetrics.failureKind(event(3, "exit code 3"))).isEqualTo("exit_code");
    assertThat(EngineMetrics.failureKind(event(null, "lost: cluster 't' forgot it")))
        .isEqualTo("lost");
    assertThat(EngineMetrics.failureKind(event(null, "rejected by cluster 't': no")))
        .isEqualTo("rejected");
    assertThat(EngineMetrics.failureKind(event(null, "the spec cannot be read")))
        .isEqualTo("error");
  }

  private static org.jobyard.engine.manager.JobEvent event(Integer exit, String reason) {
    return new org.jobyard.engine.manager.JobEvent("jy-1", "n", "u", null, "t",
        org.jobyard.api.JobState.RUNNING, org.jobyard.api.JobState.FAILED, exit, reason);
  }
}
