package org.jobyard.plugins.arc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.engine.testing.ChildJvm;
import org.jobyard.engine.testing.RunningEngine;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.DiesAfterSubmit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine is SIGKILLed (a JVM of its own, killed for real) after A-REX took a job and before
 * the engine recorded it, or before it uploaded the job's inputs: the engine started again on the
 * same store finds the job by the tag in its name, finishes its uploads, and never submits it
 * twice.
 */
@Tag("testbed")
class ArcEngineCrashTest {
  /** The CE names of this class's jobs, removed after it. */
  private static final List<String> NAMES = new java.util.concurrent.CopyOnWriteArrayList<>();
  private static final Pattern SUBMITTED = Pattern.compile("SUBMITTED (\\S+)");
  @TempDir Path home;
  RunningEngine engine;

  @AfterAll
  static void removeJobs() {
    NAMES.forEach(ArcTestbed::removeJobs);
  }

  @AfterEach
  void stop() throws Exception {
    if (engine != null) {
      engine.stop();
    }
  }

  /**
   * The engine that dies: on the store in {@code args[0]}, it submits one job that exits with
   * {@code args[2]} through a backend that hands it to A-REX (with its inputs when {@code args[1]}
   * is {@code upload}, without them otherwise) and never answers; it prints the job's id and
   * waits to be killed.
   */
  public static final class DyingEngine {
    public static void main(String[] args) throws Exception {
      var home = Path.of(args[0]);
      var arc = ArcTestbed.backend(ArcTestbed.settings(), home.resolve("cluster"));
      var dying = new DiesAfterSubmit(arc, "upload".equals(args[1]) ? arc::submit
          : jobs -> arc.client().submit(ArcJobDescription.bulk(jobs.stream()
              .map(r -> ArcJobDescription.of(r, null, null)).toList())));
      var engine = RunningEngine.start(RunningEngine.h2(home), "arc", dying,
          new LocalTransport());
      var id = engine.manager().submit(RunningEngine.user(), List.of(JobSpec.of("crash",
          "/bin/sh", "-c", "exit " + args[2]))).get(60, TimeUnit.SECONDS).getFirst();
      System.out.println("SUBMITTED " + id);
      new CountDownLatch(1).await(); // until SIGKILL
    }
  }

  @Test
  void aJobTakenByArexJustBeforeTheEngineWasKilledIsAdoptedNotSubmittedAgain()
      throws Exception {
    killAfterSubmit("upload", 4);
  }

  @Test
  void aJobWhoseInputsWereNotUploadedWhenTheEngineWasKilledGetsThemAndRuns() throws Exception {
    killAfterSubmit("no-upload", 6);
  }

  private void killAfterSubmit(String mode, int exitCode) throws Exception {
    var client = ArcTestbed.client();
    String id;
    String name;
    try (var dying = ChildJvm.start(DyingEngine.class, home.resolve("dying-engine.err"),
        home.toString(), mode, Integer.toString(exitCode))) {
      id = dying.await(SUBMITTED, Duration.ofMinutes(2)).group(1);
      name = ArcJobDescription.nameOf(id + ".1");
      NAMES.add(name);
      await().atMost(Duration.ofSeconds(60)).until(() -> ArcTestbed.jobsNamed(client, name)
          .containsKey(name));
      dying.kill();
    }

    engine = RunningEngine.start(RunningEngine.h2(home), "arc",
        ArcTestbed.backend(ArcTestbed.settings(), home.resolve("cluster")),
        new LocalTransport());
    var store = engine.store();
    await().atMost(Duration.ofMinutes(2)).until(() ->
        store.job(id).orElseThrow().state() == JobState.FAILED);
    assertThat(store.job(id).orElseThrow().exitCode()).isEqualTo(exitCode);
    assertThat(ArcTestbed.jobsNamed(client, name).get(name)).as("jobs on the CE named %s", name)
        .hasSize(1);
  }
}
