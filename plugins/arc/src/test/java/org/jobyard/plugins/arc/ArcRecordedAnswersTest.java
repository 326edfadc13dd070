package org.jobyard.plugins.arc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jobyard.api.JobStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The client on answers recorded from the testbed's real A-REX 6.17 (Debian 12) and 7.0 (Debian
 * 13's, service arc7), replayed by a fake CE: 6.17 renders one element as an object and an empty
 * list as an empty body, 7.0 always uses arrays ({@code {"job":[]}}), lists {@code dir} beside
 * {@code file} and types its delegations. Recorded with curl as the files' names say: one xRSL job
 * that writes out.txt and exits 3, polled while A-REX still reported it ACCEPTED or SUBMITTING
 * (their state lags), and an id the CE never handed out.
 */
class ArcRecordedAnswersTest {
  private static final String UNKNOWN = "jobyardNeverSubmitted0";

  @ParameterizedTest(name = "A-REX {0}")
  @ValueSource(strings = {"6.17", "7.0"})
  void readsTheSubmitStatusInfoAndListingAnswersOfBothVersions(String version) throws Exception {
    var requests = new CopyOnWriteArrayList<String>();
    var server = fakeCe(version, requests);
    try {
      var client = clientOf(server);

      var submitted = client.submit("<ActivityDescriptions/>");
      assertThat(submitted).as("submit answer").singleElement().satisfies(e -> {
        assertThat(ArcJson.text(e, "status-code")).contains("201");
        assertThat(ArcJson.text(e, "state")).contains("ACCEPTING");
      });
      var id = ArcJson.text(submitted.getFirst(), "id").orElseThrow();
      assertThat(id).as("6.17 ids are 54 letters and digits, 7.0's 12 hex digits")
          .matches(version.equals("6.17") ? "[A-Za-z0-9]{54}" : "[0-9a-f]{12}");

      var one = client.jobs("status", List.of(id));
      assertThat(one).singleElement().satisfies(e -> {
        assertThat(ArcJson.text(e, "id")).contains(id);
        assertThat(ArcJson.text(e, "status-code")).contains("200");
        assertThat(ArcStates.live(ArcJson.text(e, "state").orElse(null)))
            .as("a lagging state of a job that has ended").isNotInstanceOf(JobStatus.Unknown.class);
      });
      var two = client.jobs("status", List.of(id, UNKNOWN));
      assertThat(two).extracting(e -> ArcJson.text(e, "id").orElse(""),
              e -> ArcJson.text(e, "status-code").orElse(""))
          .containsExactly(org.assertj.core.groups.Tuple.tuple(id, "200"),
              org.assertj.core.groups.Tuple.tuple(UNKNOWN, "404"));
      assertThat(ArcStates.live(ArcJson.text(two.get(1), "state").orElse(null)))
          .as("the unknown id's state 'None'").isInstanceOf(JobStatus.Unknown.class);

      var info = client.jobs("info", List.of(id));
      assertThat(info).singleElement().satisfies(e -> assertThat(ArcJson.text(
          e.path("info_document").path("ComputingActivity"), "Name"))
          .contains("jobyard-recording-" + version));

      assertThat(client.states()).as("an empty listing (6.17: empty body; 7.0: {\"job\":[]})")
          .isEmpty();
      assertThat(client.delegations()).isNotEmpty().allMatch(d -> d.matches("[0-9a-f]{12}"));
      assertThat(ArcJson.strings(ArcJson.parse(recorded(version, "session-listing.json")), "file"))
          .containsExactly("out.txt");
      assertThat(ArcJson.strings(ArcJson.parse(recorded(version, "versions.json")), "version"))
          .contains("1.0");
      // the versions once, then every call under the newest version both sides speak
      var api = version.equals("6.17") ? "/arex/rest/1.0/" : "/arex/rest/1.1/";
      assertThat(requests).as("what the fake CE was asked").hasSize(7)
          .first().isEqualTo("GET /arex/rest?null");
      assertThat(requests.subList(1, 7)).allMatch(r -> r.contains(" " + api), "under " + api);
      assertThat(client.base()).hasToString("http://127.0.0.1:" + server.getAddress().getPort()
          + api.substring(0, api.length() - 1));
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aCeThatOffersNoVersionJobyardSpeaksIsRefusedNamingWhatItOffers() throws Exception {
    var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      var bytes = "{\"version\":[\"2.0\"]}".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, bytes.length);
      exchange.getResponseBody().write(bytes);
      exchange.close();
    });
    server.start();
    try {
      var client = clientOf(server);

      assertThatThrownBy(client::states).isInstanceOfSatisfying(ArcClient.ArcException.class,
          e -> {
            assertThat(e).hasMessageContaining("offers REST [2.0]")
                .hasMessageContaining("speaks 1.1 and 1.0");
            assertThat(e.unavailable()).as("not a CE to wait for").isFalse();
          });
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aCeThatCannotAnswerTheVersionQuestionIsUnavailableAndAskedAgainLater() throws Exception {
    var requests = new CopyOnWriteArrayList<String>();
    var down = new java.util.concurrent.atomic.AtomicBoolean(true);
    var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      if (down.get()) {
        requests.add("503");
        exchange.sendResponseHeaders(503, -1);
        exchange.close();
      } else {
        replay("7.0", requests, exchange);
      }
    });
    server.start();
    try {
      var client = clientOf(server);

      assertThatThrownBy(client::states).isInstanceOfSatisfying(ArcClient.ArcException.class,
          e -> assertThat(e.unavailable()).as("a CE to wait for").isTrue());
      down.set(false);

      assertThat(client.states()).isEmpty();
      assertThat(requests).containsExactly("503", "GET /arex/rest?null",
          "GET /arex/rest/1.1/jobs?state=" + ArcStates.ALL);
    } finally {
      server.stop(0);
    }
  }

  @ParameterizedTest(name = "A-REX {0}")
  @ValueSource(strings = {"6.17", "7.0"})
  void readsTheExitCodeAndReasonFromTheRecordedDiagAndFailedFiles(String version) {
    var end = ArcStates.end("FAILED", recorded(version, "diagnose-diag.txt"),
        recorded(version, "diagnose-failed.txt"));

    assertThat(end).isInstanceOfSatisfying(JobStatus.Exited.class, e -> {
      assertThat(e.exitCode()).isEqualTo(3);
      assertThat(e.reason()).contains("wrong exit code - 3 != 0");
    });
  }

  /** A CE that answers every call with what the real one of {@code version} answered. */
  private static HttpServer fakeCe(String version, List<String> requests) throws IOException {
    var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> replay(version, requests, exchange));
    server.start();
    return server;
  }

  private static void replay(String version, List<String> requests,
      com.sun.net.httpserver.HttpExchange exchange) throws IOException {
    {
      var path = exchange.getRequestURI().getPath();
      var query = String.valueOf(exchange.getRequestURI().getQuery());
      var body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      requests.add(exchange.getRequestMethod() + " " + path + "?" + query);
      String file;
      int code = 201;
      if (query.contains("action=new")) {
        file = "submit-one.json";
      } else if (query.contains("action=status")) {
        file = body.contains(UNKNOWN) ? "status-two-one-unknown.json" : "status-one.json";
      } else if (query.contains("action=info")) {
        file = "info-one.json";
      } else if (path.endsWith("/rest")) {
        file = "versions.json";
        code = 200;
      } else if (path.endsWith("/delegations")) {
        file = "delegations.json";
        code = 200;
      } else {
        file = "jobs-none.json"; // the listing
        code = 200;
      }
      var bytes = recorded(version, file).getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(code, bytes.length == 0 ? -1 : bytes.length);
      exchange.getResponseBody().write(bytes);
      exchange.close();
    }
  }

  /** A client of the CE {@code server} that asks it for its REST versions first. */
  private static ArcClient clientOf(HttpServer server) {
    return ArcClient.negotiating(URI.create("http://127.0.0.1:" + server.getAddress().getPort()
        + "/arex"), HttpClient.newHttpClient(), Optional::empty, Duration.ofSeconds(10));
  }

  private static String recorded(String version, String file) {
    try (var in = ArcRecordedAnswersTest.class.getResourceAsStream("recorded/" + version + "/"
        + file)) {
      if (in == null) {
        throw new IllegalStateException("no recorded answer recorded/" + version + "/" + file);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
