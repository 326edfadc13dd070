package org.jobyard.plugins.arc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.engine.testing.RunningEngine;
import org.jobyard.engine.transport.local.LocalTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-place re-run on the real A-REX: a job whose input is a URL that A-REX downloads itself
 * fails in its data staging (PREPARING) while the file is missing, and the user's restart, once
 * the file is there, runs that same CE job again (A-REX's {@code restart}), not a new attempt.
 * Seen red without {@code Capability.RESUME} on the backend: two attempts, two CE jobs.
 */
@Tag("testbed")
class ArcStagingRerunTest {
  private static final String GREETING = "fetched by A-REX itself\n";
  @TempDir Path home;
  HttpServer server;
  RunningEngine engine;
  String jobId;
  /** Whether the test server has the input yet; until then it answers 404. */
  final AtomicBoolean published = new AtomicBoolean();
  final AtomicInteger fetchedAfterPublishing = new AtomicInteger();

  @AfterEach
  void stop() throws Exception {
    if (engine != null) {
      engine.stop();
    }
    if (server != null) {
      server.stop(0);
    }
    if (jobId != null) {
      ArcTestbed.removeJobs(ArcJobDescription.nameOf(jobId));
    }
  }

  @Test
  void aJobWhoseUrlInputWasMissingRunsAgainOnTheSameCeJobAfterTheUsersRestart()
      throws Exception {
    var settings = ArcTestbed.settings();
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/inputs/greeting.txt", this::serve);
    server.start();
    // A-REX runs on this machine, so it reaches the loopback server
    var url = "http://127.0.0.1:" + server.getAddress().getPort() + "/inputs/greeting.txt";
    var stdout = home.resolve("out/greeting.out");
    var spec = ArcBackendTest.spec("rerun", List.of(ArcBackendTest.step("/bin/cat",
        "greeting.txt")), List.of(new JobSpec.FileTransfer(url, "greeting.txt")), List.of(),
        stdout);
    engine = RunningEngine.start(RunningEngine.h2(home), "arc",
        ArcTestbed.backend(settings, home.resolve("cluster")), new LocalTransport());
    var store = engine.store();
    jobId = engine.manager().submit(RunningEngine.user(), List.of(spec))
        .get(60, TimeUnit.SECONDS).getFirst();

    await().atMost(Duration.ofMinutes(3)).until(() ->
        store.job(jobId).orElseThrow().state() == JobState.FAILED);
    var failed = store.attempts(jobId);
    assertThat(failed).singleElement().satisfies(a ->
        assertThat(a.reason()).as("the staging failure shown").contains("data staging")
            .contains(url));
    var ceJob = failed.getFirst().nativeId();
    assertThat(ArcBackend.failedState(ArcTestbed.client().diagnose(ceJob, "local")
        .orElseThrow())).as("where the job failed on the CE").isEqualTo("PREPARING");

    published.set(true);
    engine.manager().restart(store.job(jobId).orElseThrow()).get(60, TimeUnit.SECONDS);
    await().atMost(Duration.ofMinutes(4)).until(() ->
        store.job(jobId).orElseThrow().state().isTerminal());

    var job = store.job(jobId).orElseThrow();
    assertThat(job.state()).as("the restarted job (%s)", job.reason())
        .isEqualTo(JobState.SUCCEEDED);
    assertThat(store.attempts(jobId)).as("the one attempt, resumed").singleElement()
        .satisfies(a -> {
          assertThat(a.nativeId()).as("the CE job").isEqualTo(ceJob);
          assertThat(a.state()).isEqualTo(JobState.SUCCEEDED);
          assertThat(a.exitCode()).isZero();
        });
    assertThat(Files.readString(stdout)).isEqualTo(GREETING);
    assertThat(fetchedAfterPublishing.get()).as("downloads by A-REX after the flip")
        .isPositive();
  }

  /**
   * A plain file server: A-REX's http client asks PROPFIND first (refused, as a plain web server
   * does), then HEAD and GET.
   */
  private void serve(HttpExchange ex) throws IOException {
    try (ex) {
      var method = ex.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        ex.sendResponseHeaders(501, -1);
      } else if (!published.get()) {
        ex.sendResponseHeaders(404, -1);
      } else if (method.equals("HEAD")) {
        ex.getResponseHeaders().set("Content-Length", String.valueOf(GREETING.length()));
        ex.sendResponseHeaders(200, -1);
      } else {
        fetchedAfterPublishing.incrementAndGet();
        var body = GREETING.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(200, body.length);
        ex.getResponseBody().write(body);
      }
    }
  }
}
