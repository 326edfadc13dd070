package org.jobyard.engine.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.api.LogStream;
import org.jobyard.engine.control.Caller;
import org.jobyard.engine.control.JobControl;
import org.jobyard.engine.control.Selector;
import org.jobyard.engine.spec.JobFileException;
import org.jobyard.engine.spec.JobFileReader;

/** The routes under {@code /api/v1/}: each reads its request, asks {@link JobControl}, answers. */
final class JobsApi {
  static final String CALLER = "jobyard.caller";
  private static final Set<String> SELECTOR_FIELDS =
      Set.of("ids", "names", "users", "sessions", "states", "all");
  private static final long FOLLOW_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
  private static final int MAX_LINES = 1_000_000;

  private final JobControl control;
  private final long maxBody;
  private volatile boolean stopping;

  JobsApi(JobControl control, long maxBody) {
    this.control = control;
    this.maxBody = maxBody;
  }

  void stopping() {
    stopping = true;
  }

  void routes(RoutesConfig r) {
    r.post("/api/v1/jobs", this::submit);
    r.get("/api/v1/jobs", this::ps);
    r.post("/api/v1/jobs/kill", ctx -> ids(ctx, control.kill(caller(ctx), mutating(ctx, "kill"))));
    r.post("/api/v1/jobs/restart", ctx ->
        ids(ctx, control.restart(caller(ctx), mutating(ctx, "restart"))));
    r.post("/api/v1/jobs/flush", ctx ->
        ids(ctx, control.flush(caller(ctx), mutating(ctx, "flush"))));
    r.post("/api/v1/jobs/pause", ctx ->
        ids(ctx, control.pause(caller(ctx), mutating(ctx, "pause"))));
    r.post("/api/v1/jobs/resume", ctx ->
        ids(ctx, control.resume(caller(ctx), mutating(ctx, "resume"))));
    r.get("/api/v1/jobs/{id}", ctx ->
        ApiServer.json(ctx, control.show(caller(ctx), ctx.pathParam("id"))));
    r.get("/api/v1/jobs/{id}/logs", this::logs);
    r.get("/api/v1/backends", ctx -> ApiServer.json(ctx, control.backends()));
    r.post("/api/v1/clusters/{name}/drain", ctx -> ApiServer.json(ctx,
        control.drain(caller(ctx), ctx.pathParam("name"), drainReason(ctx))));
    r.post("/api/v1/reload", ctx -> ApiServer.json(ctx, control.reload(caller(ctx))));
    r.post("/api/v1/clusters/{name}/undrain", ctx -> ApiServer.json(ctx,
        control.undrain(caller(ctx), ctx.pathParam("name"))));
    r.get("/api/v1/health", ctx -> {
      var caller = caller(ctx);
      var body = new LinkedHashMap<String, Object>();
      var store = control.storeStatus();
      body.put("status", store.available() ? "ok" : "not ready");
      body.put("version", version());
      body.put("user", caller.user());
      body.put("admin", caller.admin());
      body.put("store", store.available() ? "ok" : store.message());
      if (!store.available()) {
        ctx.status(503).header("Retry-After", Long.toString(ApiServer.RETRY_AFTER_SECONDS));
      }
      ApiServer.json(ctx, body);
    });
  }

  // --- submit ------------------------------------------------------------------------------

  private void submit(Context ctx) {
    var type = mediaType(ctx);
    boolean json;
    if (type.equals("application/json")) {
      json = true;
    } else if (Set.of("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
        .contains(type)) {
      json = false;
    } else {
      throw new ApiException(415, "unsupported_media_type", "send the jobs with Content-Type "
          + "application/json or application/yaml" + (type.isEmpty() ? "" : ", not " + type));
    }
    var text = body(ctx);
    List<JobSpec> specs;
    try {
      specs = JobFileReader.parse("request body", text, json);
    } catch (JobFileException e) {
      throw new ApiException(400, "invalid", "rejected, nothing was stored: "
          + String.join("; ", e.problems()), e.problems());
    }
    var problems = new ArrayList<String>();
    for (int i = 0; i < specs.size(); i++) {
      requireAbsolutePaths(specs.get(i), i + 1, problems);
    }
    if (!problems.isEmpty()) {
      throw new ApiException(400, "invalid", "rejected, nothing was stored: "
          + String.join("; ", problems), problems);
    }
    var ids = control.submit(caller(ctx), specs);
    ctx.status(201);
    ApiServer.json(ctx, Map.of("ids", ids));
  }

  /**
   * The engine cannot know the client's working folder, so paths on the engine's machine must be
   * absolute ({@code jobyard submit} makes them so, relative to where it runs).
   */
  private static void requireAbsolutePaths(JobSpec s, int index, List<String> problems) {
    var where = "request body: job " + index + " ('" + s.name() + "')";
    checkAbsolute(where, "directory", s.directory(), problems);
    checkAbsolute(where, "stdout", s.stdout(), problems);
    checkAbsolute(where, "stderr", s.stderr(), problems);
    s.inputFiles().stream().filter(f -> !f.fromUrl())
        .forEach(f -> checkAbsolute(where, "inputs.source", f.source(), problems));
    s.outputFiles().forEach(f ->
        checkAbsolute(where, "outputs.destination", f.destination(), problems));
  }

  private static void checkAbsolute(String where, String field, String value,
      List<String> problems) {
    if (value != null && !Path.of(value).isAbsolute()) {
      problems.add(where + ": field '" + field + "': '" + value + "' must be an absolute path "
          + "over the API (the engine does not know the client's folder)");
    }
  }

  // --- ps and the verbs on a selection ------------------------------------------------------

  private void ps(Context ctx) {
    var known = Set.of("id", "name", "user", "session", "state");
    for (var p : ctx.queryParamMap().keySet()) {
      if (!known.contains(p)) {
        throw ApiException.invalid("unknown query parameter '" + p + "'; known: id, name, user, "
            + "session, state (each may repeat or hold a comma-separated list)");
      }
    }
    var selector = new Selector(query(ctx, "id"), query(ctx, "name"), query(ctx, "user"),
        query(ctx, "session"), states(query(ctx, "state"), "state"));
    ApiServer.json(ctx, Map.of("jobs", control.ps(caller(ctx), selector)));
  }

  private static List<String> query(Context ctx, String name) {
    var out = new ArrayList<String>();
    for (var v : ctx.queryParams(name)) {
      for (var part : v.split(",")) {
        if (!part.isBlank()) {
          out.add(part.strip());
        }
      }
    }
    return out;
  }

  /** A selector for a verb that changes jobs: selecting everything must be said ({@code all}). */
  private Selector mutating(Context ctx, String verb) {
    var node = selectorTree(ctx);
    var selector = selector(node);
    if (selector.isEmpty() && !node.path("all").asBoolean(false)) {
      throw ApiException.invalid(verb + " needs a selection: ids, names, users, sessions or "
          + "states (or \"all\": true for every job you may see)");
    }
    return selector;
  }

  private Selector selector(Context ctx) {
    return selector(selectorTree(ctx));
  }

  private JsonNode selectorTree(Context ctx) {
    var node = jsonObject(ctx, "the selection", "{\"ids\": [\"...\"]}");
    var unknown = new ArrayList<String>();
    node.fieldNames().forEachRemaining(f -> {
      if (!SELECTOR_FIELDS.contains(f)) {
        unknown.add(f);
      }
    });
    if (!unknown.isEmpty()) {
      throw ApiException.invalid("unknown field(s) " + unknown + "; a selection has ids, names, "
          + "users, sessions, states and all");
    }
    if (node.has("all") && !node.get("all").isBoolean()) {
      throw ApiException.invalid("field 'all': expected true or false");
    }
    return node;
  }

  /** The body of a drain: optional, {@code {"reason": "..."}}. */
  private String drainReason(Context ctx) {
    var node = jsonObject(ctx, "the drain", "{\"reason\": \"kernel update\"}");
    node.fieldNames().forEachRemaining(f -> {
      if (!f.equals("reason")) {
        throw ApiException.invalid("unknown field '" + f + "'; a drain has only 'reason'");
      }
    });
    var reason = node.path("reason");
    if (!reason.isMissingNode() && !reason.isNull() && !reason.isTextual()) {
      throw ApiException.invalid("field 'reason': expected text");
    }
    return reason.isTextual() ? reason.asText() : null;
  }

  /** A JSON object body (an empty body is an empty object). */
  private JsonNode jsonObject(Context ctx, String what, String example) {
    var type = mediaType(ctx);
    if (!type.isEmpty() && !type.equals("application/json")) {
      throw new ApiException(415, "unsupported_media_type", "send " + what + " as "
          + "application/json, not " + type);
    }
    var text = body(ctx);
    if (text.isBlank()) {
      return ApiServer.JSON.createObjectNode();
    }
    JsonNode node;
    try {
      node = ApiServer.JSON.readTree(text);
    } catch (JsonProcessingException e) {
      var loc = e.getLocation();
      throw ApiException.invalid("malformed JSON" + (loc == null ? "" : " at line "
          + loc.getLineNr() + ", column " + loc.getColumnNr()) + ": " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw ApiException.invalid("expected a JSON object such as " + example);
    }
    return node;
  }

  private static Selector selector(JsonNode node) {
    return new Selector(strings(node, "ids"), strings(node, "names"), strings(node, "users"),
        strings(node, "sessions"), states(strings(node, "states"), "states"));
  }

  private static List<String> strings(JsonNode node, String field) {
    var v = node.path(field);
    if (v.isMissingNode() || v.isNull()) {
      return List.of();
    }
    if (!v.isArray()) {
      throw ApiException.invalid("field '" + field + "': expected a list of strings");
    }
    var out = new ArrayList<String>();
    for (var e : v) {
      if (!e.isTextual() || e.asText().isBlank()) {
        throw ApiException.invalid("field '" + field + "': expected a list of non-empty strings, "
            + "found " + e);
      }
      out.add(e.asText());
    }
    return out;
  }

  private static Set<JobState> states(List<String> names, String field) {
    var out = EnumSet.noneOf(JobState.class);
    for (var n : names) {
      try {
        out.add(JobState.valueOf(n.toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw ApiException.invalid(field + ": unknown state '" + n + "'; known: "
            + java.util.Arrays.stream(JobState.values()).map(s -> s.name().toLowerCase(
                Locale.ROOT)).toList());
      }
    }
    return out;
  }

  private static void ids(Context ctx, List<String> ids) {
    ApiServer.json(ctx, Map.of("ids", ids));
  }

  // --- logs --------------------------------------------------------------------------------

  private void logs(Context ctx) throws IOException {
    var known = Set.of("stream", "lines", "follow");
    for (var p : ctx.queryParamMap().keySet()) {
      if (!known.contains(p)) {
        throw ApiException.invalid("unknown query parameter '" + p + "'; known: stream, lines, "
            + "follow");
      }
    }
    var streamName = ctx.queryParam("stream") == null ? "stdout" : ctx.queryParam("stream");
    LogStream stream = switch (streamName.toLowerCase(Locale.ROOT)) {
      case "stdout" -> LogStream.STDOUT;
      case "stderr" -> LogStream.STDERR;
      default -> throw ApiException.invalid("stream: expected stdout or stderr, got '"
          + streamName + "'");
    };
    int lines = 100;
    if (ctx.queryParam("lines") != null) {
      try {
        lines = Integer.parseInt(ctx.queryParam("lines"));
      } catch (NumberFormatException e) {
        lines = -1;
      }
      if (lines < 0 || lines > MAX_LINES) {
        throw ApiException.invalid("lines: expected a whole number from 0 to " + MAX_LINES
            + ", got '" + ctx.queryParam("lines") + "'");
      }
    }
    var followParam = ctx.queryParam("follow");
    if (followParam != null && !followParam.equals("true") && !followParam.equals("false")) {
      throw ApiException.invalid("follow: expected true or false, got '" + followParam + "'");
    }
    var id = ctx.pathParam("id");
    var source = control.logSource(caller(ctx), Selector.ids(id), stream);
    ctx.contentType("text/plain; charset=utf-8");
    if (!"true".equals(followParam)) {
      ctx.result(control.tail(source, stream, lines));
      return;
    }
    // Follow: the last lines, then whatever is appended, until the job has ended.
    ctx.header("X-Content-Type-Options", "nosniff");
    ctx.status(200);
    // the servlet stream itself: Javalin's own buffers output until it decides on compression
    var out = ctx.res().getOutputStream();
    try {
      if (source instanceof JobControl.LogSource.File f) {
        followFile(id, f.path(), lines, out);
      } else {
        followRemote(id, source, stream, lines, out);
      }
    } catch (IOException e) {
      // the client went away: nothing to answer
    }
  }

  private void followFile(String id, Path path, int lines, OutputStream out) throws IOException {
    long offset = -1;
    while (true) {
      boolean finished = control.isFinished(id); // asked before reading: nothing is missed
      if (Files.isRegularFile(path)) {
        try (var f = new RandomAccessFile(path.toFile(), "r")) {
          long end = f.length();
          if (offset < 0) {
            offset = tailStart(f, end, lines);
          }
          if (end < offset) {
            offset = 0; // truncated or replaced (a restart): start over
          }
          if (end > offset) {
            var bytes = new byte[(int) Math.min(end - offset, 1 << 20)];
            f.seek(offset);
            f.readFully(bytes);
            out.write(bytes);
            out.flush();
            offset += bytes.length;
            if (offset < end) {
              continue; // more to send before sleeping
            }
          }
        }
      } else {
        out.flush();
      }
      if (finished || stopping) {
        return;
      }
      LockSupport.parkNanos(FOLLOW_POLL_NANOS);
    }
  }

  /** The offset where the last {@code lines} lines of a file start, reading only its end. */
  static long tailStart(RandomAccessFile f, long end, int lines) throws IOException {
    return org.jobyard.engine.control.LogTail.start(f, end, lines);
  }

  /**
   * A log the backend reads for us has no offsets: re-read its tail and send what is new, found
   * by where the text sent so far ends in the fresh tail.
   */
  private void followRemote(String id, JobControl.LogSource source, LogStream stream, int lines,
      OutputStream out) throws IOException {
    var sent = control.tail(source, stream, lines);
    out.write(sent.getBytes(StandardCharsets.UTF_8));
    out.flush();
    while (!stopping) {
      boolean finished = control.isFinished(id);
      LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(finished ? 0 : 2));
      var fresh = control.tail(source, stream, Math.max(lines, 10_000));
      String news;
      if (fresh.startsWith(sent)) {
        news = fresh.substring(sent.length());
      } else {
        var anchor = sent.substring(Math.max(0, sent.length() - 512));
        int at = anchor.isEmpty() ? -1 : fresh.lastIndexOf(anchor);
        news = at < 0 ? fresh : fresh.substring(at + anchor.length());
      }
      if (!news.isEmpty()) {
        out.write(news.getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
      sent = fresh;
      if (finished) {
        return;
      }
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  static Caller caller(Context ctx) {
    Caller c = ctx.attribute(CALLER);
    if (c == null) {
      throw new ApiException(401, "unauthorized", "no credentials");
    }
    return c;
  }

  private static String mediaType(Context ctx) {
    var t = ctx.header("Content-Type");
    if (t == null) {
      return "";
    }
    int semi = t.indexOf(';');
    return (semi < 0 ? t : t.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
  }

  /** The body as UTF-8, refused whole (413) when larger than the limit. */
  private String body(Context ctx) {
    var declared = ctx.req().getContentLengthLong();
    try (var in = ctx.bodyInputStream()) {
      if (declared > maxBody) {
        drain(in);
        throw tooLarge();
      }
      var buf = new ByteArrayOutputStream();
      var chunk = new byte[65536];
      int n;
      while ((n = in.read(chunk)) >= 0) {
        buf.write(chunk, 0, n);
        if (buf.size() > maxBody) {
          drain(in);
          throw tooLarge();
        }
      }
      return buf.toString(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw ApiException.invalid("cannot read the request body: " + e.getMessage());
    }
  }

  private ApiException tooLarge() {
    return new ApiException(413, "payload_too_large", "the request body is larger than "
        + maxBody + " bytes; split the jobs into several requests or use a sweep");
  }

  /**
   * Reads and drops the rest of an oversized body (up to a bound), so that the client, still
   * sending, gets the 413 instead of a reset connection.
   */
  private void drain(java.io.InputStream in) throws IOException {
    long left = Math.max(maxBody * 8, 64L << 20);
    var chunk = new byte[65536];
    int n;
    while (left > 0 && (n = in.read(chunk)) >= 0) {
      left -= n;
    }
  }

  static String version() {
    var v = JobsApi.class.getPackage().getImplementationVersion();
    return v == null ? "development" : v;
  }
}
