package org.jobyard.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.JobState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness itself works (seconds, no timing asserts): an engine with the zero-cost backend
 * runs a few hundred jobs to the end, and the polling harness counts one backend call per cycle.
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
  void pollingCostIsOneBackendCallPerCycle() throws Exception {
    var rows = InProcess.polling(tmp, new int[] {10, 500}, 600);
    assertThat(rows).filteredOn(r -> r.figure().startsWith("engine:")).hasSize(2)
        .allSatisfy(r -> assertThat(r.verdict()).isEqualTo("met"));
  }

  @Test
  void rowsSurviveTheTripThroughAChildJvm() {
    var row = new Row("b", "figure", "1 s", "2 s", "0.5", "<= 1", "met");
    assertThat(Row.parse(row.line())).isEqualTo(row);
  }
}
