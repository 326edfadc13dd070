package org.jobyard.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.JobState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness itself works (seconds, no timing asserts): an engine with the zero-cost backend
 * runs a few hundred jobs to the end and polls them with one backend call per cycle.
 */
class SmokeTest {
  @TempDir Path tmp;

  @Test
  void theZeroCostBackendRunsJobsThroughTheEngine() throws Exception {
    var yaml = "database: {url: '" + Engines.h2(tmp) + "'}\n"
        + "engine: {poll_interval: 200ms}\n"
        + "clusters:\n  fake: {backend: bench-fake}\n";
    try (var engine = Engines.start(tmp.resolve("home"), yaml)) {
      var states = new Engines.States();
      engine.manager().addListener(states);
      var ids = engine.manager().submit("bench", Engines.trivial("smoke", 300))
          .get(60, TimeUnit.SECONDS);
      assertThat(ids).hasSize(300);
      assertThat(states.await(s -> s == JobState.SUCCEEDED, 300, 20_000)).isTrue();
    }
  }

  @Test
  void theEnginePollsAllItsJobsWithOneBackendCallPerCycle() throws Exception {
    int n = 500;
    var yaml = "database: {url: '" + Engines.h2(tmp) + "'}\n"
        + "engine: {poll_interval: 200ms}\n"
        + "clusters:\n  fake: {backend: bench-fake, run_ms: 3600000}\n";
    FakeBackend.reset();
    try (var engine = Engines.start(tmp.resolve("home"), yaml)) {
      var states = new Engines.States();
      engine.manager().addListener(states);
      engine.manager().submit("bench", Engines.trivial("p", n)).get(60, TimeUnit.SECONDS);
      assertThat(states.await(s -> s == JobState.RUNNING, n, 120_000)).isTrue();
      long calls0 = FakeBackend.POLL_CALLS.get();
      long refs0 = FakeBackend.POLLED_REFS.get();

      // counts, not time: a few cycles later, every call has asked about all n jobs
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        long calls = FakeBackend.POLL_CALLS.get() - calls0;
        long refs = FakeBackend.POLLED_REFS.get() - refs0;
        assertThat(calls).as("poll calls since all jobs ran").isGreaterThanOrEqualTo(3);
        assertThat(refs).as("jobs asked about in %d calls", calls).isEqualTo(calls * n);
      });
    }
  }

  @Test
  void aRowReadsBackFromTheLineItPrints() {
    var row = new Row("b", "figure", "1 s", "2 s", "0.5", "<= 1", "met");
    assertThat(Row.parse(row.line())).isEqualTo(row);
  }
}
