package org.jobyard.plugins.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendException;
import org.jobyard.api.Command;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.api.Settings;
import org.jobyard.engine.config.ClusterConfig;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.testing.ChildJvm;
import org.jobyard.engine.testing.RunningEngine;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.ForwardingBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A retried job's old attempt is cancelled exactly once, also when the engine is SIGKILLed (a JVM
 * of its own, killed for real) after it recorded that cancel in its outbox and before the
 * cluster took it: the engine started again on the same store sends it, once, and leaves the
 * retry running. The old attempt is one the cluster lost track of while its process ran on.
 */
class OldAttemptCancelAcrossEngineKillTest {
  static final Duration LOST_AFTER = Duration.ofSeconds(3);
  private static final Pattern RUNNING = Pattern.compile("RUNNING (\\S+) (\\S+)");
  private static final Pattern RETRIED = Pattern.compile("RETRIED (\\S+)");
  @TempDir Path home;
  RunningEngine engine;

  @AfterEach
  void stop() throws Exception {
    if (engine != null) {
      engine.stop();
    }
    // both attempts' processes (sleep), the forgotten one too; the runner stops when idle
    var local = new LocalTransport();
    if (!Files.isDirectory(home.resolve("cluster"))) {
      return;
    }
    try (var dirs = Files.list(home.resolve("cluster"))) {
      for (var pid : dirs.map(d -> d.resolve("pid")).filter(Files::isReadable).toList()) {
        local.run(Command.of("kill", "-KILL", "--", "-" + Files.readString(pid).strip()
            .split("\\s+")[0]));
      }
    }
  }

  /** The engine's core with the local backend under {@code home}, cancels marked there. */
  static RunningEngine startEngine(Path home) throws Exception {
    var transport = new LocalTransport();
    var backend = new LocalBackendProvider().create(new BackendContext("local", new Settings(
        "cluster 'local'", Map.of("slots", "4", "kill-grace", "1s")), transport,
        home.resolve("cluster"), BackendContext.Events.NONE));
    return RunningEngine.start(RunningEngine.h2(home), new EngineConfig.Tuning(
        Duration.ofMillis(300), 50, LOST_AFTER, Duration.ofMillis(500)), List.of(
        RunningEngine.cluster("local", new MarkedCancels(backend, home), transport,
            ClusterConfig.Policy.DEFAULT, Duration.ofMillis(300))));
  }

  /**
   * The engine that is killed: on the store in {@code args[0]}, it runs one job with one retry,
   * prints its attempt's tag once it runs, and {@code RETRIED} once that attempt was lost, the
   * retry runs and the old attempt's cancel waits in the outbox; then it waits to be killed.
   */
  public static final class DoomedEngine {
    public static void main(String[] args) throws Exception {
      var home = Path.of(args[0]);
      var engine = startEngine(home);
      var store = engine.store();
      var one = JobSpec.of("twice", "sleep", "300");
      var spec = new JobSpec(one.name(), null, null, one.steps(), Map.of(), null, null, null,
          null, null, null, List.of(), List.of(), List.of(), 1, Map.of());
      var id = engine.manager().submit(RunningEngine.user(), List.of(spec))
          .get(60, java.util.concurrent.TimeUnit.SECONDS).getFirst();
      await().atMost(Duration.ofSeconds(60)).until(() -> runs(home, store, id, 1));
      System.out.println("RUNNING " + id + " " + store.attempts(id).getFirst().nativeId());
      await().atMost(Duration.ofSeconds(90)).until(() -> runs(home, store, id, 2)
          && !store.outbox().isEmpty());
      System.out.println("RETRIED " + id);
      new CountDownLatch(1).await(); // until SIGKILL
    }
  }

  /** The job runs its attempt {@code n}, and the runner has written that attempt's pid. */
  static boolean runs(Path home, org.jobyard.engine.store.JobStore store, String id, int n) {
    var attempts = store.attempts(id);
    return attempts.size() == n && store.job(id).orElseThrow().state() == JobState.RUNNING
        && attempts.getLast().nativeId() != null
        && Files.isReadable(home.resolve("cluster").resolve(attempts.getLast().nativeId())
            .resolve("pid"));
  }

  @Test
  void aRetriedJobsOldAttemptIsCancelledExactlyOnceAlsoAcrossAnEngineSigkill() throws Exception {
    Files.createFile(home.resolve(MarkedCancels.DOWN)); // no cancel gets through yet
    String id;
    String oldAttempt;
    try (var doomed = ChildJvm.start(DoomedEngine.class, home.resolve("doomed-engine.err"),
        home.toString())) {
      var running = doomed.await(RUNNING, Duration.ofMinutes(2));
      id = running.group(1);
      oldAttempt = running.group(2);
      // the cluster forgets the attempt while its process runs on (its folder moves away): it
      // is lost after lost_after, its cancel goes to the outbox, and the job is retried
      var folder = home.resolve("cluster").resolve(oldAttempt);
      Files.move(folder, folder.resolveSibling(oldAttempt + ".forgotten"));
      doomed.await(RETRIED, Duration.ofMinutes(2));
      doomed.kill();
    }
    assertThat(MarkedCancels.sent(home)).as("cancels sent before the kill").isEmpty();
    Files.delete(home.resolve(MarkedCancels.DOWN)); // the cluster answers cancels again

    engine = startEngine(home);
    var store = engine.store();
    await().atMost(Duration.ofSeconds(60)).until(() -> store.outbox().isEmpty());
    var retry = store.attempts(id).getLast().nativeId();
    assertThat(retry).isNotEqualTo(oldAttempt);
    assertThat(MarkedCancels.sent(home)).as("cancels of native jobs").containsExactly(oldAttempt);
    assertThat(store.job(id).orElseThrow().state()).as("the retry is left running")
        .isEqualTo(JobState.RUNNING);
  }

  /**
   * The real backend, whose cancels fail while the file {@link #DOWN} exists in the engine's
   * home and are otherwise noted there, one native id a line, by every engine on that home.
   */
  static final class MarkedCancels extends ForwardingBackend {
    static final String DOWN = "cancels-down";
    static final String SENT = "cancels-sent";
    private final Path home;

    MarkedCancels(Backend real, Path home) {
      super(real);
      this.home = home;
    }

    static List<String> sent(Path home) throws IOException {
      var file = home.resolve(SENT);
      return Files.exists(file) ? Files.readAllLines(file) : List.of();
    }

    @Override
    public void cancel(List<JobRef> jobs) throws BackendException {
      if (Files.exists(home.resolve(DOWN))) {
        throw BackendException.unavailable("the test keeps cancels from getting through", null);
      }
      real.cancel(jobs);
      var lines = new StringBuilder();
      jobs.forEach(j -> lines.append(j.nativeId()).append('\n'));
      try {
        Files.writeString(home.resolve(SENT), lines, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }
}
