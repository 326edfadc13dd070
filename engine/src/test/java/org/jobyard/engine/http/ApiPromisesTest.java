package org.jobyard.engine.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the API promises in its OpenAPI document: errors are always JSON with a documented code,
 * even for requests Jetty refuses before any route; the document is valid OpenAPI; and what the
 * server answers fits the document's schemas (issue 13).
 */
class ApiPromisesTest {
  private static final String TOKEN = "promises-token-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final OpenApiDocument OPENAPI = OpenApiDocument.bundled();

  @TempDir
  static Path home;
  static TestEngine api;
  static ApiServer server;

  @BeforeAll
  static void start() throws Exception {
    api = TestEngine.start(home, "engine: {poll_interval: 100ms}\n"
        + "clusters: {t: {backend: scripted, users: ['*']}}\n"
        + "api: {listen: '127.0.0.1:0', tokens: [{user: ann, token: " + TOKEN + "}]}\n");
    server = api.server();
  }

  @AfterAll
  static void stop() {
    if (api != null) {
      api.close();
    }
  }

  record Raw(int status, String contentType, String body) {
    JsonNode json() throws Exception {
      return JSON.readTree(body);
    }
  }

  /** A request written by hand: Java's HTTP client refuses to send the malformed ones. */
  static Raw raw(String method, String target, String contentType, String body) throws Exception {
    try (var s = new Socket(server.url().getHost(), server.url().getPort())) {
      var bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
      var head = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
          + TOKEN + "\r\nConnection: close\r\n" + (contentType == null ? ""
              : "Content-Type: " + contentType + "\r\n")
          + "Content-Length: " + bytes.length + "\r\n\r\n";
      s.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().write(bytes);
      s.getOutputStream().flush();
      var all = new ByteArrayOutputStream();
      s.getInputStream().transferTo(all);
      var text = all.toString(StandardCharsets.UTF_8);
      var status = Integer.parseInt(text.substring(9, 12));
      var headers = text.substring(0, text.indexOf("\r\n\r\n")).toLowerCase();
      var type = headers.lines().filter(l -> l.startsWith("content-type:"))
          .map(l -> l.substring(13).strip()).findFirst().orElse("");
      var payload = text.substring(text.indexOf("\r\n\r\n") + 4);
      if (headers.contains("transfer-encoding: chunked")) {
        payload = unchunk(payload);
      }
      return new Raw(status, type, payload);
    }
  }

  private static String unchunk(String chunked) {
    var sb = new StringBuilder();
    var rest = chunked;
    while (true) {
      int nl = rest.indexOf("\r\n");
      int size = Integer.parseInt(rest.substring(0, nl).strip(), 16);
      if (size == 0) {
        return sb.toString();
      }
      sb.append(rest, nl + 2, nl + 2 + size);
      rest = rest.substring(nl + 2 + size + 2);
    }
  }

  private static void assertDocumentedJsonError(Raw r, int status) throws Exception {
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.contentType()).as(r.body()).startsWith("application/json");
    assertThat(OPENAPI.problems("/components/schemas/Error", r.json())).isEmpty();
    var code = r.json().path("error").path("code").asText();
    assertThat(OPENAPI.text()).as("code %s documented", code).contains("`" + code + "` " + status);
  }

  @Test
  void requestsJettyRefusesItselfAnswerDocumentedJsonErrors() throws Exception {
    assertDocumentedJsonError(raw("GET", "/api/v1/jobs/%ff%fe/logs", null, null), 400);
    assertDocumentedJsonError(raw("GET", "/api/v1/jobs?name=" + "x".repeat(10_000), null, null),
        414);
    assertDocumentedJsonError(raw("POST", "/api/v1/jobs", "text/plain", "name: a"), 415);
    assertDocumentedJsonError(raw("GET", "/nowhere", null, null), 404);
  }

  @Test
  void jobDocumentsThatUsedToFailInsideAnswer400NamingTheField() throws Exception {
    var r = raw("POST", "/api/v1/jobs", "application/json",
        "{\"name\": \"a\", \"executable\": \"x\", \"resources\": {\"memory\": \"99999999999999999999TB\"}}");
    assertDocumentedJsonError(r, 400);
    assertThat(r.json().path("error").path("problems").get(0).asText())
        .contains("field 'resources.memory'");
    r = raw("POST", "/api/v1/jobs", "application/yaml", "name: a\nexecutable: /bin/true\n---\n"
        + "name: b\nexecutable: /bin/true\n");
    assertDocumentedJsonError(r, 400);
    assertThat(r.body()).contains("a second YAML document");
  }

  @Test
  void theServedDocumentIsValidOpenApi() throws Exception {
    var served = raw("GET", "/api/v1/openapi.yaml", null, null);
    assertThat(served.status()).isEqualTo(200);
    var options = new ParseOptions();
    options.setResolve(true);
    var result = new OpenAPIV3Parser().readContents(served.body(), null, options);
    assertThat(result.getMessages()).isEmpty();
    assertThat(result.getOpenAPI().getPaths()).containsKey("/api/v1/jobs");
    // every description is text: an unquoted one once split into stray keys
    var strays = new ArrayList<String>();
    collectStrays(new OpenApiDocument(served.body()).tree(), "", strays);
    assertThat(strays).isEmpty();
  }

  /** Keys that no OpenAPI or JSON Schema object has: what a broken flow mapping leaves. */
  private static void collectStrays(JsonNode node, String at, List<String> strays) {
    if (node.isObject()) {
      node.fields().forEachRemaining(e -> {
        var k = e.getKey();
        if (k.endsWith(")") || k.startsWith("(") || k.contains(" ")) {
          strays.add(at + "/" + k);
        }
        collectStrays(e.getValue(), at + "/" + k, strays);
      });
    } else if (node.isArray()) {
      node.forEach(n -> collectStrays(n, at, strays));
    }
  }

  @Test
  void answersFitTheDocumentedSchemas() throws Exception {
    var submitted = raw("POST", "/api/v1/jobs", "application/json",
        "{\"name\": \"fits\", \"executable\": \"/bin/true\", \"session\": \"s\"}");
    assertThat(submitted.status()).as(submitted.body()).isEqualTo(201);
    assertThat(OPENAPI.problems("/components/schemas/Ids", submitted.json())).isEmpty();
    var listed = raw("GET", "/api/v1/jobs?session=s", null, null);
    assertThat(listed.json().path("jobs")).isNotEmpty();
    for (var job : listed.json().path("jobs")) {
      assertThat(OPENAPI.problems("/components/schemas/Job", job)).as(job.toString()).isEmpty();
    }
    var id = submitted.json().path("ids").get(0).asText();
    var shown = raw("GET", "/api/v1/jobs/" + id, null, null);
    assertThat(shown.status()).as(shown.body()).isEqualTo(200);
    assertThat(shown.json().path("job").path("id").asText()).isEqualTo(id);
    assertThat(shown.json().path("output").path("read_with").asText())
        .isEqualTo("jobyard logs " + id);
    assertThat(OPENAPI.problems("/components/schemas/JobDetail", shown.json()))
        .as(shown.body()).isEmpty();
    var missing = raw("GET", "/api/v1/jobs/no-such-job", null, null);
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.json().path("error").path("code").asText()).isEqualTo("not_found");
    var killed = raw("POST", "/api/v1/jobs/kill", "application/json", "{\"sessions\": [\"s\"]}");
    assertThat(OPENAPI.problems("/components/schemas/Ids", killed.json())).isEmpty();
    var responses = "/paths/~1api~1v1~1%s/get/responses/200/content/application~1json/schema";
    assertThat(OPENAPI.problems(responses.formatted("health"),
        raw("GET", "/api/v1/health", null, null).json())).isEmpty();
    assertThat(OPENAPI.problems(responses.formatted("backends"),
        raw("GET", "/api/v1/backends", null, null).json())).isEmpty();
  }
}
