package org.jobyard.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The verbs' way to the engine: its REST API over {@link HttpClient}. The address and token come
 * from {@code --engine} / {@code JOBYARD_ENGINE} and {@code JOBYARD_TOKEN}, else from the
 * {@code var/run/} files that {@code jobyard engine} writes in this installation.
 */
final class Client {
  static final ObjectMapper JSON = new ObjectMapper();

  private final URI base;
  private final String token;
  private final HttpClient http;

  Client(URI base, String token) {
    this(base, token, null);
  }

  /** @param tls the trust for an https engine, or null for the JDK's own */
  Client(URI base, String token, javax.net.ssl.SSLContext tls) {
    this.base = base.toString().endsWith("/") ? base : URI.create(base + "/");
    this.token = token;
    var builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5));
    if (tls != null) {
      builder.sslContext(tls);
    } else if ("http".equalsIgnoreCase(this.base.getScheme())) {
      // plain HTTP never uses TLS: without this, the client would load the JDK's CA store and
      // TLS providers (about a third of a short verb's CPU) for nothing
      builder.sslContext(PlainHttp.CONTEXT).sslParameters(new javax.net.ssl.SSLParameters());
    }
    this.http = builder.build();
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
      c.http.send(HttpRequest.newBuilder(c.base.resolve("api/v1/health"))
          .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.discarding());
      return url.strip(); // any answer, even 401, means something serves there
    } catch (javax.net.ssl.SSLException e) {
      return url.strip(); // a TLS engine whose certificate this check does not trust
    } catch (IOException | IllegalArgumentException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
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
    return json(send(request(path).GET(), HttpResponse.BodyHandlers.ofInputStream()));
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
    return json(send(request(path).header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)),
        HttpResponse.BodyHandlers.ofInputStream()));
  }

  /** A streamed text answer (a followed log); the caller closes it. */
  InputStream stream(String path) {
    var response = send(request(path).GET(), HttpResponse.BodyHandlers.ofInputStream());
    if (response.statusCode() >= 300) {
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

  private HttpRequest.Builder request(String path) {
    var b = HttpRequest.newBuilder(base.resolve(path.startsWith("/") ? path.substring(1) : path))
        .header("Accept", "application/json, text/plain");
    if (token != null && !token.isEmpty()) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  private <T> HttpResponse<T> send(HttpRequest.Builder request, HttpResponse.BodyHandler<T> h) {
    try {
      return http.send(request.build(), h);
    } catch (ConnectException e) {
      throw new CliException(Main.ENGINE_FAILED, "cannot reach the engine at " + base
          + ": connection refused; is 'jobyard engine' running?");
    } catch (javax.net.ssl.SSLHandshakeException e) {
      throw new CliException(Main.ENGINE_FAILED, "cannot reach the engine at " + base + ": its "
          + "TLS certificate is not trusted (" + e.getMessage() + "); set JOBYARD_CA to the "
          + "engine's certificate or CA (PEM)");
    } catch (HttpTimeoutException e) {
      throw new CliException(Main.ENGINE_FAILED, "the engine at " + base + " did not answer in "
          + "time");
    } catch (IOException e) {
      throw new CliException(Main.ENGINE_FAILED, "cannot reach the engine at " + base + ": "
          + (e.getMessage() == null ? e.toString() : e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(Main.ENGINE_FAILED, "interrupted");
    }
  }

  private JsonNode json(HttpResponse<InputStream> response) {
    if (response.statusCode() >= 300) {
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
  private CliException failure(HttpResponse<InputStream> response) {
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
        message = text.isBlank() ? "HTTP " + response.statusCode() : text.strip();
      }
    } catch (IOException e) {
      message = "HTTP " + response.statusCode();
    }
    int status = response.statusCode();
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

  /** A TLS context that trusts nothing, for a client that only speaks plain HTTP. */
  private static final class PlainHttp {
    static final javax.net.ssl.SSLContext CONTEXT = refuseAll();

    private static javax.net.ssl.SSLContext refuseAll() {
      var refuse = new javax.net.ssl.X509TrustManager() {
        @Override
        public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String auth)
            throws java.security.cert.CertificateException {
          throw new java.security.cert.CertificateException("plain HTTP client: no TLS");
        }

        @Override
        public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String auth)
            throws java.security.cert.CertificateException {
          throw new java.security.cert.CertificateException("plain HTTP client: no TLS");
        }

        @Override
        public java.security.cert.X509Certificate[] getAcceptedIssuers() {
          return new java.security.cert.X509Certificate[0];
        }
      };
      try {
        var context = javax.net.ssl.SSLContext.getInstance("TLS");
        context.init(new javax.net.ssl.KeyManager[0], new javax.net.ssl.TrustManager[] {refuse},
            null);
        return context;
      } catch (java.security.GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private static final String JOBYARD_TOKEN_HINT = " (the CLI sends JOBYARD_TOKEN, else the "
      + "token of this engine's entry in ~/.config/jobyard/engines.yaml, else, to this "
      + "installation's own engine only, the token in var/run/token)";
}
