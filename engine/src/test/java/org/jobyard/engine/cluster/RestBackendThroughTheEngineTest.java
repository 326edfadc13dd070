package org.jobyard.engine.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.Condition;
import org.jobyard.api.CredentialExpiry;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.engine.Engine;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.control.JobControl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SPI's newer promises, kept by a whole engine with a REST-style test backend: attribute
 * updates from polls, one refused job in a bulk submit, the periodic hook and credential expiry
 * as users see them.
 */
class RestBackendThroughTheEngineTest {
  static final Duration WAIT = Duration.ofSeconds(60);
  @TempDir Path home;
  Engine engine;

  Engine start(String cluster) throws Exception {
    var conf = Files.writeString(home.resolve("jobyard.yaml"), """
        engine: {poll_interval: 200ms}
        clusters:
          %s: {backend: http-probe}
        """.formatted(cluster));
    engine = Engine.create(ConfigLoader.load(home, conf)).start();
    return engine;
  }

  @AfterEach
  void stop() {
    if (engine != null) {
      engine.close();
    }
  }

  List<String> submit(JobSpec... specs) throws Exception {
    return engine.manager().submit("alice", List.of(specs)).get(30, TimeUnit.SECONDS);
  }

  JobState state(String id) {
    return engine.store().job(id).orElseThrow().state();
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> cluster() {
    var clusters = (List<Map<String, Object>>) new JobControl(engine).backends().get("clusters");
    return clusters.getFirst();
  }

  @SuppressWarnings("unchecked")
  List<Map<String, Object>> conditions() {
    return (List<Map<String, Object>>) cluster().get("conditions");
  }

  @Test
  void attributeUpdatesFromAPollAreStoredWithItsStateAndHandedToTheNextPoll() throws Exception {
    start("ce-attrs");
    var id = submit(JobSpec.of("updated", "true")).getFirst();

    await().atMost(WAIT).until(() -> state(id) == JobState.SUCCEEDED);

    var polled = HttpProbe.POLLED.get(id);
    assertThat(polled.get(0)).containsExactly(Map.entry("url",
        "https://ce.example.org/jobs/" + id + ".1"));
    assertThat(polled.get(1)).containsEntry("started_at", "poll-1")
        .containsEntry("url", "https://ce.example.org/jobs/" + id + ".1");
    var stored = new ObjectMapper().readValue(
        engine.store().attempts(id).getFirst().attributes(), Map.class);
    assertThat(stored).containsExactlyInAnyOrderEntriesOf(Map.of(
        "url", "https://ce.example.org/jobs/" + id + ".1/done",
        "started_at", "poll-1", "left_queue_at", "poll-2"));
  }

  @Test
  void oneJobTheBatchSystemRefusesInABulkSubmitFailsWhileTheOthersRun() throws Exception {
    start("ce-bulk");
    // a first submit held open, so that the next three jobs queue up for one bulk call
    var gate = submit(JobSpec.of("gate", "true")).getFirst();
    await().atMost(WAIT).until(() -> HttpProbe.SUBMITS.containsKey("ce-bulk"));
    var ids = submit(JobSpec.of("ok-1", "true"), JobSpec.of("refuse-me", "true"),
        JobSpec.of("ok-2", "true"));
    HttpProbe.GATE.countDown();

    await().atMost(WAIT).until(() -> ids.stream().allMatch(id -> state(id).isTerminal()));

    assertThat(HttpProbe.SUBMITS.get("ce-bulk")).as("the gate, then one call of three jobs")
        .containsExactly(1, 3);
    assertThat(ids.stream().map(this::state)).containsExactly(JobState.SUCCEEDED,
        JobState.FAILED, JobState.SUCCEEDED);
    assertThat(engine.store().job(ids.get(1)).orElseThrow().reason())
        .contains("the CE refuses refuse-me: no such queue");
    await().atMost(WAIT).until(() -> state(gate) == JobState.SUCCEEDED);
  }

  @Test
  void thePeriodicHooksConditionsAreShownAndItsFailureNeverStopsTheCluster() throws Exception {
    HttpProbe.HOOKS.put("ce-hook", () -> List.of(Condition.warning("delegation",
        "renewed 2 min late")));
    start("ce-hook");

    await().atMost(WAIT).untilAsserted(() -> assertThat(conditions()).containsExactly(Map.of(
        "severity", "warning", "subject", "delegation", "message", "renewed 2 min late")));
    assertThat(cluster().get("status")).isEqualTo("degraded");

    HttpProbe.HOOKS.put("ce-hook", () -> {
      throw new IllegalStateException("the CE answered 503");
    });
    await().atMost(WAIT).untilAsserted(() -> assertThat(conditions()).containsExactly(Map.of(
        "severity", "error", "subject", "maintenance",
        "message", "the backend's periodic hook failed: the CE answered 503")));
    var id = submit(JobSpec.of("still-works", "true")).getFirst();
    await().atMost(WAIT).until(() -> state(id) == JobState.SUCCEEDED);

    HttpProbe.HOOKS.put("ce-hook", () -> List.of(Condition.ok("health", "the CE answers")));
    await().atMost(WAIT).until(() -> cluster().get("status").equals("ok"));

    // the hook runs on the cluster's control thread, as polls do; submits on its staging thread
    var calls = HttpProbe.CALLS.get("ce-hook");
    assertThat(calls).filteredOn(c -> !c.startsWith("submit "))
        .extracting(c -> c.substring(c.indexOf(' ') + 1)).containsOnly("cluster-ce-hook");
    assertThat(calls).filteredOn(c -> c.startsWith("submit "))
        .extracting(c -> c.substring(c.indexOf(' ') + 1)).containsOnly("cluster-ce-hook-staging");
    assertThat(calls).anyMatch(c -> c.startsWith("maintain "))
        .anyMatch(c -> c.startsWith("poll ")).anyMatch(c -> c.startsWith("submit "));
  }

  @Test
  void aCredentialTheBackendReportsNearItsExpiryIsShownAsAWarning() throws Exception {
    start("ce-cred");
    HttpProbe.CONTEXTS.get("ce-cred").events().credentialExpires(new CredentialExpiry(
        "delegation", Instant.now().plus(Duration.ofMinutes(30))));

    @SuppressWarnings("unchecked")
    var credentials = (List<Map<String, Object>>) cluster().get("credentials");
    assertThat(credentials).singleElement().satisfies(c -> {
      assertThat(c.get("name")).isEqualTo("delegation");
      assertThat(c.get("status")).isEqualTo("expiring");
      assertThat((String) c.get("message")).matches("delegation expires in (29|30) min");
    });
    assertThat(conditions()).singleElement().satisfies(c ->
        assertThat(c.get("severity")).isEqualTo("warning"));
    assertThat(cluster().get("status")).isEqualTo("degraded");
  }
}
