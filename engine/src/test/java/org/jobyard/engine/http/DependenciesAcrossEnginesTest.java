package org.jobyard.engine.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jobyard.api.JobState;
import org.jobyard.engine.store.JobRow;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: {@code after} across engines. Two engines share a fresh schema; a fan-out/fan-in is
 * submitted to one, which runs part of the fan-out and gives the rest to the shared queue, where
 * the other claims it. The jobs that wait stay with the first engine and must learn of ends on the
 * second from the store.
 */
@Tag("testbed")
class DependenciesAcrossEnginesTest {
  private static final String TOKEN = "after-token-0123456789abcdef";
  @TempDir
  Path tmp;
  private final List<TestEngine> engines = new ArrayList<>();

  @AfterEach
  void close() {
    engines.reversed().forEach(TestEngine::close);
  }

  private TestEngine engine(String url, String name) throws Exception {
    var e = TestEngine.start(Files.createDirectory(tmp.resolve(name)),
        TestEngine.onPostgres(url, "15s", 1, TOKEN));
    engines.add(e);
    return e;
  }

  private static Map<String, Object> job(String name, Object after) {
    var m = new LinkedHashMap<String, Object>();
    m.put("name", name);
    m.put("executable", "hang");
    if (after != null) {
      m.put("after", after);
    }
    return m;
  }

  @Test
  void aFanOutAndInWhosePartsRunOnTwoEnginesRunsEachJobOnceInOrderAndAFailureCancelsItsDependent()
      throws Exception {
    var url = Testbed.freshPostgresSchema();
    var a = engine(url, "a");
    var b = engine(url, "b");
    var ids = a.submit(TOKEN, List.of(job("root", null), job("m1", List.of("root")),
        job("m2", List.of("root")), job("m3", List.of("root")), job("m4", List.of("root")),
        job("sink", List.of("m1", "m2", "m3")), job("orphan", List.of("m4"))));
    var id = new LinkedHashMap<String, String>();
    for (var n : List.of("root", "m1", "m2", "m3", "m4", "sink", "orphan")) {
      id.put(n, ids.get(id.size()));
    }
    var store = a.engine().store();
    java.util.function.Function<String, JobRow> row = n -> store.job(id.get(n)).orElseThrow();

    await().atMost(Duration.ofSeconds(60)).until(() -> row.apply("root").state()
        == JobState.RUNNING);
    ScriptedBackend.finish(id.get("root"), 0);
    // max_jobs 1: a runs m1 and holds m2; m3 and m4 go to the shared queue, and b claims them
    await().atMost(Duration.ofSeconds(60)).until(() -> row.apply("m1").state()
        == JobState.RUNNING && row.apply("m3").state() == JobState.RUNNING);
    var onB = b.engine().leases().lease().orElseThrow().engineId();
    try (var c = java.sql.DriverManager.getConnection(url, Testbed.get("PG_USER"),
        Testbed.get("PG_PASSWORD")); var s = c.createStatement(); var rs = s.executeQuery(
            "SELECT name FROM jobs WHERE engine_id = '" + onB + "' ORDER BY name")) {
      var names = new ArrayList<String>();
      while (rs.next()) {
        names.add(rs.getString(1));
      }
      assertThat(names).as("b's jobs").containsExactly("m3", "m4");
    }

    // the fan-in's dependencies on a end first: then it waits for m3 alone, which b runs
    ScriptedBackend.finish(id.get("m1"), 0);
    await().atMost(Duration.ofSeconds(60)).until(() -> row.apply("m2").state()
        == JobState.RUNNING);
    ScriptedBackend.finish(id.get("m2"), 0);
    await().atMost(Duration.ofSeconds(60)).until(() -> row.apply("sink").reason() != null
        && row.apply("sink").reason().startsWith("waiting for 'm3'"));
    assertThat(store.attempts(id.get("sink"))).as("not before m3 ends").isEmpty();
    ScriptedBackend.finish(id.get("m3"), 0);
    await().atMost(Duration.ofSeconds(60)).until(() -> row.apply("sink").state()
        == JobState.RUNNING);
    ScriptedBackend.finish(id.get("sink"), 0);

    // m4 fails on b: what waits for it on a is cancelled, naming it
    await().atMost(Duration.ofSeconds(60)).until(() -> row.apply("m4").state()
        == JobState.RUNNING);
    ScriptedBackend.finish(id.get("m4"), 3);
    await().atMost(Duration.ofSeconds(60)).until(() -> row.apply("orphan").state()
        == JobState.CANCELLED);
    assertThat(row.apply("orphan").reason()).isEqualTo("dependency 'm4' (" + id.get("m4")
        + ") failed");
    await().atMost(Duration.ofSeconds(60)).until(() -> row.apply("sink").state()
        == JobState.SUCCEEDED);

    for (var n : List.of("root", "m1", "m2", "m3", "sink")) {
      assertThat(row.apply(n).state()).as(n).isEqualTo(JobState.SUCCEEDED);
      assertThat(store.attempts(id.get(n))).as("attempts of %s", n).singleElement();
      assertThat(ScriptedBackend.JOBS.keySet().stream().filter(t -> t.startsWith(id.get(n)
          + "."))).as("native jobs of %s", n).containsExactly(id.get(n) + ".1");
    }
    assertThat(store.attempts(id.get("orphan"))).as("never submitted").isEmpty();
    var sinkStarted = store.attempts(id.get("sink")).getFirst().createdAt();
    for (var n : List.of("m1", "m2", "m3")) {
      assertThat(store.attempts(id.get(n)).getFirst().endedAt()).as("%s ended before the sink "
          + "was submitted", n).isBeforeOrEqualTo(sinkStarted);
    }
  }
}
