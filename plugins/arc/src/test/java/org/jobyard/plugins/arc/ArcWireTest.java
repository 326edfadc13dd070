package org.jobyard.plugins.arc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitRequest;
import org.junit.jupiter.api.Test;

/** The pure pieces: A-REX's JSON shapes, its states and failure texts, the ADL text. */
class ArcWireTest {

  @Test
  void readsOneJobAsAnObjectManyAsAnArrayAndNoneAsAnEmptyBody() throws Exception {
    // 6.17 shapes (recorded): one element is an object, several an array, none an empty body
    var one = ArcJson.parse("{\"job\":{\"status-code\":\"201\",\"id\":\"A\"}}");
    var two = ArcJson.parse("{\"job\":[{\"id\":\"A\"},{\"id\":\"B\"}]}");
    var none = ArcJson.parse("");
    var seven = ArcJson.parse("{\"job\":[]}");

    assertThat(ArcJson.list(one, "job")).extracting(j -> j.get("id").asText()).containsExactly("A");
    assertThat(ArcJson.list(two, "job")).extracting(j -> j.get("id").asText())
        .containsExactly("A", "B");
    assertThat(ArcJson.list(none, "job")).isEmpty();
    assertThat(ArcJson.list(seven, "job")).isEmpty();
    assertThat(ArcJson.strings(ArcJson.parse("{\"version\":\"1.0\"}"), "version"))
        .containsExactly("1.0");
    assertThat(ArcJson.strings(ArcJson.parse("{\"version\":[\"1.0\",\"1.1\"]}"), "version"))
        .containsExactly("1.0", "1.1");
  }

  @Test
  void mapsEndsFromTheDiagAndFailedFiles() {
    var diag = "nodename=vm\nCommand exited with non-zero status 3\nwalltime=1\nexitcode=3\n";
    var wrongExit = "LRMS error: (3) Job finished with wrong exit code - 3 != 0\n";

    assertThat(ArcStates.end("FAILED", diag, wrongExit)).isEqualTo(new JobStatus.Exited(3,
        "FAILED", wrongExit.strip()));
    assertThat(ArcStates.end("FINISHED", "exitcode=0\n", null))
        .isEqualTo(new JobStatus.Exited(0, "FINISHED", null));
    assertThat(ArcStates.end("FAILED", null, "Failed in files upload (uploader)"))
        .isEqualTo(new JobStatus.Failed(-1, "FAILED", "Failed in files upload (uploader)"));
    assertThat(ArcStates.end("FAILED", "exitcode=271\n", "Job is canceled by external request"))
        .as("the listing says FAILED for a killed job").isInstanceOf(JobStatus.Cancelled.class);
    assertThat(ArcStates.live("PREPARING")).isInstanceOf(JobStatus.Pending.class);
    assertThat(ArcStates.live("EXITINGLRMS")).isInstanceOf(JobStatus.Running.class);
    assertThat(ArcStates.live("WIPED")).isInstanceOf(JobStatus.Unknown.class);
    assertThat(ArcStates.live(null)).isInstanceOf(JobStatus.Unknown.class);
  }

  @Test
  void escapesTheQueueAndRefusesControlCharactersNamingThem() {
    var spec = new JobSpec("x", null, null, List.of(new JobSpec.Step("true", List.of())),
        Map.of(), null, null, null, null, "a<b&'c'", null, List.of(), List.of(), List.of(), 0,
        Map.of());
    var adl = ArcJobDescription.of(new SubmitRequest("j1", 2, spec), null, "d1").adl();

    assertThat(adl).contains("<Name>jobyard.j1.2</Name>")
        .contains("<QueueName>a&lt;b&amp;&apos;c&apos;</QueueName>")
        .contains("<nordugrid-adl:DelegationID>d1</nordugrid-adl:DelegationID>")
        .contains("<OutputFile><Name>jobyard.stdout</Name></OutputFile>");
    assertThatThrownBy(() -> ArcJobDescription.xml("bad\u0001queue"))
        .hasMessageContaining("U+0001");
  }

  @Test
  void anInputFromAUrlIsNamedAsItsSourceForAArexToFetchAndIsNotUploaded() {
    var spec = new JobSpec("x", null, null, List.of(new JobSpec.Step("cat", List.of("a b"))),
        Map.of(), null, null, null, null, null, null, List.of(
            new JobSpec.FileTransfer("/home/u/local.txt", "local.txt"),
            new JobSpec.FileTransfer("https://se.example.org/d?x=1&y=2", "a b")),
        List.of(), List.of(), 0, Map.of());
    var job = ArcJobDescription.of(new SubmitRequest("j1", 1, spec), null, null);

    assertThat(job.adl()).contains("<InputFile><Name>jobyard.in.0</Name></InputFile>")
        .contains("<InputFile><Name>jobyard.in.1</Name><Source><URI>"
            + "https://se.example.org/d?x=1&amp;y=2</URI></Source></InputFile>");
    assertThat(job.inputs()).extracting(ArcJobDescription.Upload::sessionName)
        .as("what the client uploads").containsExactly(ArcJobDescription.SCRIPT, "jobyard.in.0");
    assertThat(job.script()).as("the fetched file is placed like an uploaded one")
        .contains("jobyard.in.1 'a b'");
  }

  @Test
  void aCeAnswering5xxMakesTheClusterUnavailableNotTheJobsFailed() throws Exception {
    var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      exchange.sendResponseHeaders(503, -1);
      exchange.close();
    });
    server.start();
    try {
      var backend = backendOn(server, "down");
      var job = new JobRef("j", "X", Map.of(ArcBackend.TAG, "j.1"));

      assertThatThrownBy(() -> backend.poll(List.of(job)))
          .isInstanceOfSatisfying(BackendException.class, e -> {
            assertThat(e.isRetryable()).isTrue();
            assertThat(e.getMessage()).contains("HTTP 503").contains("unavailable");
          });
      assertThatThrownBy(() -> backend.cancel(List.of(job)))
          .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.isRetryable())
              .isTrue());
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aJobTheListingMissesIsAskedByIdBeforeItIsCalledGone() throws Exception {
    // A-REX lists from its control folders while moving status files between them
    var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    var asked = new java.util.concurrent.CopyOnWriteArrayList<String>();
    server.createContext("/", exchange -> {
      var query = exchange.getRequestURI().getQuery();
      String body;
      int code;
      if ("GET".equals(exchange.getRequestMethod())) {
        body = "{\"job\":{\"id\":\"A\",\"state\":\"RUNNING\"}}";
        code = 200;
      } else {
        asked.add(new String(exchange.getRequestBody().readAllBytes()));
        body = "{\"job\":[{\"status-code\":\"200\",\"id\":\"B\",\"state\":\"PREPARING\"},"
            + "{\"status-code\":\"404\",\"reason\":\"Job not found\",\"id\":\"C\"}]}";
        code = query != null && query.contains("action=status") ? 201 : 400;
      }
      var bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(code, bytes.length);
      exchange.getResponseBody().write(bytes);
      exchange.close();
    });
    server.start();
    try {
      var backend = backendOn(server, "ce");
      var jobs = List.of(new JobRef("a", "A", Map.of(ArcBackend.TAG, "a.1")),
          new JobRef("b", "B", Map.of(ArcBackend.TAG, "b.1")),
          new JobRef("c", "C", Map.of(ArcBackend.TAG, "c.1")));

      var statuses = backend.poll(jobs);

      assertThat(statuses.get("a")).isInstanceOf(JobStatus.Running.class);
      assertThat(statuses.get("b")).as("listed by id though the listing missed it")
          .isEqualTo(new JobStatus.Pending("PREPARING", "staging inputs"));
      assertThat(statuses.get("c")).isInstanceOf(JobStatus.Unknown.class);
      assertThat(asked).singleElement().asString().contains("B").contains("C")
          .doesNotContain("\"A\"");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aRestartAskedBeforeTheEngineRestartedStillReadsAsRestartingToAFreshBackend()
      throws Exception {
    // the CE still lists the job as FAILED: it has not taken the restart up yet
    var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      var path = exchange.getRequestURI().getPath();
      var body = path.endsWith("/diagnose/failed") ? "failed in INLRMS"
          : path.contains("/diagnose/") ? "exitcode=1\n"
          : "{\"job\":{\"id\":\"A\",\"state\":\"FAILED\"}}";
      var bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, bytes.length);
      exchange.getResponseBody().write(bytes);
      exchange.close();
    });
    server.start();
    try {
      var asked = java.time.Instant.now().minusSeconds(30).toString();
      var recent = new JobRef("a", "A", Map.of(ArcBackend.TAG, "a.1",
          ArcBackend.RESUME_ASKED, asked));
      var longAgo = new JobRef("a", "A", Map.of(ArcBackend.TAG, "a.1",
          ArcBackend.RESUME_ASKED, java.time.Instant.now().minus(ArcBackend.RESUME_GRACE)
              .minusSeconds(60).toString()));

      var restarting = backendOn(server, "ce").poll(List.of(recent)).get("a");
      assertThat(restarting).as("asked 30 s ago, within the grace")
          .isInstanceOf(JobStatus.Pending.class);
      assertThat(restarting.attributeUpdates()).containsEntry(ArcBackend.RESUME_ASKED, asked);

      var failed = backendOn(server, "ce").poll(List.of(longAgo)).get("a");
      assertThat(failed).as("the grace is over: the CE's failure stands")
          .isInstanceOf(JobStatus.Failed.class);
      assertThat(failed.attributeUpdates()).containsEntry(ArcBackend.RESUME_ASKED, "");
    } finally {
      server.stop(0);
    }
  }

  /** A backend whose A-REX is {@code server} (plain HTTP, no delegation). */
  private static ArcBackend backendOn(HttpServer server, String cluster) {
    var client = new ArcClient(URI.create("http://127.0.0.1:" + server.getAddress().getPort()
        + "/arex/rest/1.0"), HttpClient.newHttpClient(), Optional::empty,
        Duration.ofSeconds(10));
    return new ArcBackend(cluster, client, Optional.empty(), null,
        org.jobyard.api.BackendContext.Events.NONE, Duration.ofMinutes(1));
  }
}
