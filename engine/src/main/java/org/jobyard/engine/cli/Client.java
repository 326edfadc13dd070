package org.jobyard.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;

/**
 * The verbs' way to the engine: its REST API over {@link HttpURLConnection}. The address and
 * token come from {@code --engine} / {@code JOBYARD_ENGINE} and {@code JOBYARD_TOKEN}, else from
 * the {@code var/run/} files that {@code jobyard engine} writes in this installation.
 *
 * <p>Not {@code java.net.http.HttpClient}: a verb sends one or two requests and exits, and that
 * client's start (its selector thread, executors, and the TLS set-up it makes even for plain
 * HTTP) was over a thousand classes and most of a {@code ps}'s CPU (docs/startup.md).
 */
final class Client {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final int CONNECT_TIMEOUT_MS = 5_000;

  private final URI base;
  private final String token;
  /** The trust for an https engine, or null for the JDK's own. */
  private final SSLContext tls;

  Client(URI base, String token) {
    this(base, token, null);
  }

  /** @param tls the trust for an https engine, or null for the JDK's own */
  Client(URI base, String token, SSLContext tls) {
    this.base = base.toString().endsWith("/") ? base : URI.create(base + "/");
    this.token = token;
    this.tls = tls;
  }

  /** Finds the engine: the option, then the environment, then the run/ of this state folder. */
  static Client locate(String engineOption) {
    var run = Main.state().resolve("run");
    String url = engineOption;
    String from = "--engine";
    if (url == null || url.isBlank()) {
      url = System.getenv("JOBYARD_ENGINE");
      from = "JOBYARD_ENGINE";
    }
    if (url == null || url.isBlank()) {
      url = read(run.resolve("engine.url"));
      from = run.resolve("engine.url").toString();
    }
    if (url == null || url.isBlank()) {
      throw new CliException(Main.ENGINE_FAILED, "no engine found: start one with 'jobyard "
          + "engine' (it writes " + run.resolve("engine.url") + "), or give its address with "
          + "--engine URL or JOBYARD_ENGINE");
    }
    URI uri;
    try {
      uri = URI.create(url.strip());
      if (uri.getScheme() == null || uri.getHost() == null) {
        throw new IllegalArgumentException("no scheme or host");
      }
    } catch (IllegalArgumentException e) {
      throw new CliException(Main.BAD_INPUT, from + ": not a URL such as http://host:8642/: '"
          + url.strip() + "'");
    }
    // the var/run token only to the var/run engine, never to a URL someone else named
    var credentials = Credentials.of(uri, System.getenv(), run);
    return new Client(uri, credentials.token(), credentials.tls());
  }

  /** The URL of an engine that answers at the address in {@code urlFile}, or null. */
  static String runningEngine(Path urlFile) {
    var url = read(urlFile);
    if (url == null || url.isBlank()) {
      return null;
    }
    try {
      var c = new Client(URI.create(url.strip()), null);
      var connection = c.open("api/v1/health", 3_000);
      connection.getResponseCode();
      connection.disconnect();
      return url.strip(); // any answer, even 401, means something serves there
    } catch (javax.net.ssl.SSLException e) {
      return url.strip(); // a TLS engine whose certificate this check does not trust
    } catch (IOException | IllegalArgumentException e) {
      return null;
    }
  }

  private static String read(Path p) {
    try {
      return Files.isReadable(p) ? Files.readString(p).strip() : null;
    } catch (IOException e) {
      return null;
    }
  }

  URI base() {
    return base;
  }

  JsonNode get(String path) {
    return json(send(path, null, null));
  }

  JsonNode post(String path, Object body) {
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return post(path, bytes, "application/json");
  }

  JsonNode post(String path, byte[] body, String contentType) {
    return json(send(path, body, contentType));
  }

  /** A streamed text answer (a followed log); the caller closes it. */
  InputStream stream(String path) {
    var response = send(path, null, null);
    if (response.status() >= 300) {
      throw failure(response);
    }
    return response.body();
  }

  static String query(Map<String, List<String>> params) {
    var sb = new StringBuilder();
    params.forEach((k, values) -> values.forEach(v -> sb.append(sb.isEmpty() ? '?' : '&')
        .append(k).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8))));
    return sb.toString();
  }

  static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** An answer: its status and its body (the error body for a status of 400 or more). */
  private record Response(int status, InputStream body) {}

  /** A connection to {@code path}, never through a proxy (the engine is named directly). */
  private HttpURLConnection open(String path, int readTimeoutMs) throws IOException {
    var url = base.resolve(path.startsWith("/") ? path.substring(1) : path).toURL();
    var connection = (HttpURLConnection) url.openConnection(Proxy.NO_PROXY);
    if (tls != null && connection instanceof HttpsURLConnection https) {
      https.setSSLSocketFactory(tls.getSocketFactory());
    }
    connection.setConnectTimeout(CONNECT_TIMEOUT_MS);
    connection.setReadTimeout(readTimeoutMs);
    connection.setInstanceFollowRedirects(false);
    connection.setRequestProperty("Accept", "application/json, text/plain");
    if (token != null && !token.isEmpty()) {
      connection.setRequestProperty("Authorization", "Bearer " + token);
    }
    return connection;
  }

  /** GET {@code path}, or POST {@code body} to it when there is one. */
  private Response send(String path, byte[] body, String contentType) {
    try {
      var connection = open(path, 0); // a followed log may be quiet for as long as it likes
      if (body != null) {
        // buffered, not streamed: in streaming mode a 401 would be an HttpRetryException
        connection.setRequestMethod("POST");
        connection.setDoOutput(true);
        connection.setRequestProperty("Content-Type", contentType);
        try (var out = connection.getOutputStream()) {
          out.write(body);
        }
      }
      int status = connection.getResponseCode();
      var in = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
      return new Response(status, in != null ? in : new ByteArrayInputStream(new byte[0]));
    } catch (ConnectException e) {
      throw new CliException(Main.ENGINE_FAILED, "cannot reach the engine at " + base
          + ": connection refused; is 'jobyard engine' running?");
    } catch (javax.net.ssl.SSLHandshakeException e) {
      throw new CliException(Main.ENGINE_FAILED, "cannot reach the engine at " + base + ": its "
          + "TLS certificate is not trusted (" + e.getMessage() + "); set JOBYARD_CA to the "
          + "engine's certificate or CA (PEM)");
    } catch (SocketTimeoutException e) {
      throw new CliException(Main.ENGINE_FAILED, "the engine at " + base + " did not answer in "
          + "time");
    } catch (IOException e) {
      throw new CliException(Main.ENGINE_FAILED, "cannot reach the engine at " + base + ": "
          + (e.getMessage() == null ? e.toString() : e.getMessage()));
    }
  }

  private JsonNode json(Response response) {
    if (response.status() >= 300) {
      throw failure(response);
    }
    try (var in = response.body()) {
      return JSON.readTree(in);
    } catch (IOException e) {
      throw new CliException(Main.ENGINE_FAILED, "the engine at " + base + " sent an answer "
          + "that is not JSON: " + e.getMessage());
    }
  }

  /** The engine's JSON error as an exit code and its message. */
  private CliException failure(Response response) {
    String code = null;
    String message;
    JsonNode problems = null;
    try (var in = response.body()) {
      var text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      try {
        var error = JSON.readTree(text).path("error");
        code = error.path("code").asText(null);
        message = error.path("message").asText(text);
        problems = error.path("problems");
      } catch (IOException e) {
        message = text.isBlank() ? "HTTP " + response.status() : text.strip();
      }
    } catch (IOException e) {
      message = "HTTP " + response.status();
    }
    int status = response.status();
    if (problems != null && problems.isArray() && !problems.isEmpty()) {
      var sb = new StringBuilder(message.contains(":") ? message.substring(0,
          message.indexOf(':')) + ":" : message);
      problems.forEach(p -> sb.append("\n  ").append(p.asText()));
      message = sb.toString();
    }
    if (status == 401) {
      message += JOBYARD_TOKEN_HINT;
    }
    int exit = switch (status) {
      case 404, 409 -> Main.JOBS_FAILED;
      case 400, 401, 403, 413, 415, 422 -> Main.BAD_INPUT;
      default -> status >= 500 ? Main.ENGINE_FAILED : Main.BAD_INPUT;
    };
    return new CliException(exit, message, code);
  }

  private static final String JOBYARD_TOKEN_HINT = " (the CLI sends JOBYARD_TOKEN, else the "
      + "token of this engine's entry in ~/.config/jobyard/engines.yaml, else, to this "
      + "installation's own engine only, the token in var/run/token)";
}
