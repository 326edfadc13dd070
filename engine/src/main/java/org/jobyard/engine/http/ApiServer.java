package org.jobyard.engine.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jobyard.engine.control.Caller;
import org.jobyard.engine.control.ControlException;
import org.jobyard.engine.control.JobControl;
import org.jobyard.engine.security.PemTls;
import org.jobyard.engine.store.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST API under {@code /api/v1/} on Javalin (Jetty 12): authentication, JSON errors, body
 * limits and the server's life cycle. The routes themselves are in {@link JobsApi}; every one of
 * them goes through {@link JobControl}, which decides what the caller may see and do.
 *
 * <p>Errors are always {@code {"error": {"code": "...", "message": "..."}}} with a stable code:
 * {@code unauthorized} 401, {@code invalid} 400, {@code forbidden} 403 (not granted, see
 * docs/security.md), {@code not_found} 404, {@code method_not_allowed} 405, {@code conflict}
 * 409, {@code payload_too_large} 413, {@code uri_too_long} 414, {@code unsupported_media_type}
 * 415, {@code headers_too_large} 431, {@code unavailable} 503, {@code internal} 500, also for
 * requests Jetty refuses itself ({@link JsonErrorHandler}).
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

  /** What a 503 for a store outage asks the client to wait before trying again. */
  private static final String OPENAPI = "/api/v1/openapi.yaml";
  static final long RETRY_AFTER_SECONDS = 5;

  /** Request bodies above this are refused with 413: a job file of 10 MiB is already huge. */
  public static final long DEFAULT_MAX_BODY = 10L * 1024 * 1024;

  static final ObjectMapper JSON = new ObjectMapper()
      .registerModule(new JavaTimeModule())
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

  private final String host;
  private final int port;
  private final Javalin app;
  private final JobsApi jobs;
  private final boolean tls;
  private volatile URI url;

  /**
   * @param listen {@code host:port}; port 0 takes a free one
   * @param maxBody the largest request body accepted, in bytes
   */
  public ApiServer(JobControl control, Authenticator auth, String listen, long maxBody) {
    this(control, auth, listen, maxBody, null);
  }

  /** @param tls serves HTTPS with this identity; null for plain HTTP */
  public ApiServer(JobControl control, Authenticator auth, String listen, long maxBody,
      PemTls tls) {
    requireNonNull(control, "control is null");
    requireNonNull(auth, "auth is null");
    requireNonNull(listen, "listen is null");
    var colon = listen.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("listen must be host:port, got '" + listen + "'");
    }
    this.host = listen.substring(0, colon);
    this.port = Integer.parseInt(listen.substring(colon + 1));
    this.jobs = new JobsApi(control, maxBody);
    this.tls = tls != null;
    this.app = Javalin.create(config -> {
      config.startup.showJavalinBanner = false;
      config.startup.showOldJavalinVersionWarning = false;
      config.concurrency.useVirtualThreads = true; // a followed log holds its thread for long
      config.http.compressionStrategy = CompressionStrategy.NONE; // followed logs must flush
      config.http.maxRequestSize = maxBody;
      config.http.prefer405over404 = true;
      config.jetty.host = host;
      config.jetty.port = port;
      if (tls != null) {
        config.jetty.addConnector((server, http) -> tls.connector(server, http, host, port));
      }
      // requests Jetty refuses itself answer JSON too, at the server and in the servlet context
      config.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
      config.jetty.modifyServletContextHandler(h -> h.setErrorHandler(new JsonErrorHandler()));
      config.routes.before("/api/*", ctx -> {
        if (ctx.path().equals(OPENAPI)) {
          return; // the API's description is public: clients generate code from it unauthenticated
        }
        var caller = auth.authenticate(ctx.header("Authorization")).orElseThrow(() -> {
          ctx.header("WWW-Authenticate", "Bearer realm=\"jobyard\"");
          return new ApiException(401, "unauthorized", ctx.header("Authorization") == null
              ? "no credentials: send 'Authorization: Bearer <token>' (the local user's token "
                  + "is in run/token of the engine's state folder: see 'jobyard config')"
              : "the bearer token is not valid");
        });
        ctx.attribute(JobsApi.CALLER, caller);
      });
      jobs.routes(config.routes);
      new MetricsEndpoint(control).routes(config.routes);
      new DashboardRoutes(control).routes(config.routes);
      config.routes.get(OPENAPI, ctx -> {
        try (InputStream in = ApiServer.class.getResourceAsStream("openapi.yaml")) {
          if (in == null) {
            throw new ApiException(404, "not_found", "openapi.yaml is missing from this build");
          }
          ctx.contentType("application/yaml").result(in.readAllBytes());
        }
      });
      config.routes.exception(ApiException.class, (e, ctx) ->
          error(ctx, e.status, e.code, e.getMessage(), e.problems));
      config.routes.exception(ControlException.class, (e, ctx) ->
          error(ctx, status(e.code()), e.code(), e.getMessage(), List.of()));
      config.routes.exception(HttpResponseException.class, (e, ctx) ->
          error(ctx, e.getStatus(), code(e.getStatus()), e.getMessage(), List.of()));
      config.routes.exception(StoreUnavailableException.class, (e, ctx) -> {
        // an outage of the database, not an engine failure: say so, and when to come back
        ctx.header("Retry-After", Long.toString(RETRY_AFTER_SECONDS));
        error(ctx, 503, "unavailable", e.getMessage(), List.of());
      });
      config.routes.exception(Exception.class, (e, ctx) -> {
        LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
        error(ctx, 500, "internal", "the engine failed to answer: " + e
            + " (details in log/jobyard.log of the engine's state folder)", List.of());
      });
    });
  }

  public ApiServer(JobControl control, Authenticator auth, String listen) {
    this(control, auth, listen, DEFAULT_MAX_BODY);
  }

  /** Starts listening; {@link #url()} tells where. */
  public ApiServer start() {
    app.start(host, port);
    var h = host.contains(":") ? "[" + host + "]" : host;
    if (host.equals("0.0.0.0") || host.equals("::")) {
      h = "127.0.0.1";
    }
    url = URI.create((tls ? "https://" : "http://") + h + ":" + app.port() + "/");
    LOG.info("API listening on {}", url);
    return this;
  }

  /** The base URL, e.g. {@code http://127.0.0.1:8642/}; the API is under {@code api/v1/}. */
  public URI url() {
    return url;
  }

  /** Ends followed logs, then stops accepting and closes connections. */
  @Override
  public void close() {
    jobs.stopping();
    app.stop();
  }

  static int status(String code) {
    return switch (code) {
      case "not_found" -> 404;
      case "conflict" -> 409;
      case "invalid" -> 400;
      case "unavailable" -> 503;
      case "forbidden" -> 403;
      default -> 500;
    };
  }

  static String code(int status) {
    return switch (status) {
      case 400 -> "invalid";
      case 401 -> "unauthorized";
      case 403 -> "forbidden";
      case 404 -> "not_found";
      case 405 -> "method_not_allowed";
      case 409 -> "conflict";
      case 413 -> "payload_too_large";
      case 414 -> "uri_too_long";
      case 415 -> "unsupported_media_type";
      case 431 -> "headers_too_large";
      case 503 -> "unavailable";
      default -> status >= 500 ? "internal" : "invalid";
    };
  }

  static void error(Context ctx, int status, String code, String message, List<String> problems) {
    var body = new LinkedHashMap<String, Object>();
    body.put("code", code);
    body.put("message", message);
    if (!problems.isEmpty()) {
      body.put("problems", problems);
    }
    ctx.status(status);
    json(ctx, Map.of("error", body));
  }

  static void json(Context ctx, Object value) {
    try {
      ctx.contentType("application/json").result(JSON.writeValueAsBytes(value));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
