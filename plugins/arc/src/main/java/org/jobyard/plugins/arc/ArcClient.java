package org.jobyard.plugins.arc;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A-REX's REST interface, one method per call: API 1.1 where the CE offers it (ARC 7), else 1.0
 * (6.x), asked once with {@code GET <wsurl>/rest}; the calls used here mean the same in both.
 * Every
 * request says {@code Accept: application/json}; id lists go as {@code Content-Type} exactly
 * {@code application/json} (with a charset A-REX answers 201 and an empty body). Bulk actions
 * answer 201 with a status code per job.
 */
final class ArcClient {
  private static final String JSON = "application/json";

  private static final List<String> SPOKEN = List.of("1.1", "1.0"); // preferred first

  private final URI wsurl; // null when the base is fixed
  private volatile URI base;
  private final HttpClient http;
  private final Supplier<Optional<String>> token;
  private final Duration timeout;
  private final AtomicInteger requests = new AtomicInteger();

  /**
   * @param base the REST base, {@code https://host:443/arex/rest/1.0}
   * @param token a bearer token, read on each request (a token file may be refreshed)
   */
  ArcClient(URI base, HttpClient http, Supplier<Optional<String>> token, Duration timeout) {
    this(null, base, http, token, timeout);
  }

  private ArcClient(URI wsurl, URI base, HttpClient http, Supplier<Optional<String>> token,
      Duration timeout) {
    this.wsurl = wsurl;
    this.base = base;
    this.http = http;
    this.token = token;
    this.timeout = timeout;
  }

  /**
   * A client that asks the CE at {@code wsurl} ({@code https://host:443/arex}) which REST
   * versions it offers at its first request, and speaks the newest one it knows. A CE that does
   * not answer is asked again at the next request.
   */
  static ArcClient negotiating(URI wsurl, HttpClient http, Supplier<Optional<String>> token,
      Duration timeout) {
    return new ArcClient(wsurl, null, http, token, timeout);
  }

  /** The REST base in use, or {@code <wsurl>/rest} before the version is known. */
  URI base() {
    var b = base;
    return b != null ? b : URI.create(wsurl + "/rest");
  }

  private URI resolvedBase() throws ArcException {
    var b = base;
    if (b != null) {
      return b;
    }
    synchronized (this) {
      if (base == null) {
        var answer = send("versions", builder(URI.create(wsurl + "/rest")).GET(), 200);
        var offered = ArcJson.strings(parse("versions", answer), "version");
        var version = SPOKEN.stream().filter(offered::contains).findFirst()
            .orElseThrow(() -> new ArcException("versions at " + wsurl + "/rest: the CE offers "
                + "REST " + offered + ", Jobyard speaks " + String.join(" and ", SPOKEN)
                + " (is 'url' the CE's A-REX endpoint, https://host:443/arex?)", 0, false,
                null));
        base = URI.create(wsurl + "/rest/" + version);
      }
      return base;
    }
  }

  /** How many HTTP requests this client sent: what the one-request-per-poll rule counts. */
  int requests() {
    return requests.get();
  }

  /** A failed call. {@code status} is -1 when no HTTP answer came. */
  static final class ArcException extends Exception {
    final int status;
    final boolean maybeSent;

    ArcException(String message, int status, boolean maybeSent, Throwable cause) {
      super(message, cause);
      this.status = status;
      this.maybeSent = maybeSent;
    }

    /** The CE is unreachable, timed out or broken (5xx): try again later. */
    boolean unavailable() {
      return status < 0 || status >= 500;
    }
  }

  // ---- jobs -------------------------------------------------------------------------------------

  /** {@code POST /jobs?action=new} with ADL; the per-job entries, in input order. */
  List<JsonNode> submit(String descriptions) throws ArcException {
    var answer = send("submit", request("/jobs?action=new")
        .header("Content-Type", "application/xml")
        .POST(HttpRequest.BodyPublishers.ofString(descriptions, StandardCharsets.UTF_8)), 201);
    return ArcJson.list(parse("submit", answer), "job");
  }

  /** A bulk {@code POST /jobs?action=...} (info, status, kill, clean, restart). */
  List<JsonNode> jobs(String action, List<String> ids) throws ArcException {
    var answer = send(action, request("/jobs?action=" + action).header("Content-Type", JSON)
        .POST(HttpRequest.BodyPublishers.ofString(ArcJson.jobIds(ids))), 201);
    return ArcJson.list(parse(action, answer), "job");
  }

  /**
   * Every job of this identity with its state, in one request: {@code GET /jobs?state=...}
   * computes states from A-REX's control files, so it does not lag like {@code status} and
   * {@code info}, which read what the information system last wrote.
   */
  Map<String, String> states() throws ArcException {
    var answer = send("list", request("/jobs?state=" + ArcStates.ALL).GET(), 200);
    var out = new HashMap<String, String>();
    for (var job : ArcJson.list(parse("list", answer), "job")) {
      ArcJson.text(job, "id").ifPresent(id -> out.put(id, ArcJson.text(job, "state")
          .orElse("OTHER")));
    }
    return out;
  }

  /** Uploads a file into the job's session. */
  void put(String id, String sessionPath, Path file) throws ArcException {
    try {
      send("upload " + sessionPath, request(session(id, sessionPath))
          .header("Content-Type", "application/octet-stream")
          .PUT(HttpRequest.BodyPublishers.ofFile(file)), 200);
    } catch (java.io.FileNotFoundException e) {
      throw new ArcException("input file " + file + " does not exist", 0, false, e);
    }
  }

  void put(String id, String sessionPath, byte[] content) throws ArcException {
    send("upload " + sessionPath, request(session(id, sessionPath))
        .header("Content-Type", "application/octet-stream")
        .PUT(HttpRequest.BodyPublishers.ofByteArray(content)), 200);
  }

  /** Downloads a session file to {@code target}; false when the CE has no such file (404). */
  boolean get(String id, String sessionPath, Path target) throws ArcException {
    var req = request(session(id, sessionPath)).header("Accept", "application/octet-stream")
        .GET().build();
    requests.incrementAndGet();
    Path tmp = null;
    try {
      var parent = target.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      tmp = Files.createTempFile(parent, ".jobyard-arc-", ".part");
      var response = http.send(req, HttpResponse.BodyHandlers.ofFile(tmp));
      if (response.statusCode() == 404) {
        return false;
      }
      if (response.statusCode() != 200) {
        throw failed("download " + sessionPath, response.statusCode(), "");
      }
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      tmp = null;
      return true;
    } catch (IOException e) {
      throw io("download " + sessionPath, e, false);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ArcException("interrupted", -1, true, e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // a leftover .part file is harmless
        }
      }
    }
  }

  /** A control file ({@code diag}, {@code failed}, {@code status}...); empty on 404. */
  Optional<String> diagnose(String id, String item) throws ArcException {
    var req = request("/jobs/" + segment(id) + "/diagnose/" + item).header("Accept", "text/plain")
        .GET();
    var answer = exchange("diagnose " + item, req);
    if (answer.statusCode() == 404) {
      return Optional.empty();
    }
    if (answer.statusCode() != 200) {
      throw failed("diagnose " + item, answer.statusCode(), answer.body());
    }
    return Optional.of(answer.body());
  }

  // ---- delegations ------------------------------------------------------------------------------

  /** A new delegation: its id and the CSR to sign. */
  record Csr(String delegationId, String pem) {}

  Csr newDelegation() throws ArcException {
    var answer = send("delegation", request("/delegations?action=new")
        .POST(HttpRequest.BodyPublishers.noBody()), 201);
    // 6.17 puts the query inside the path of Location: the id is after the last '/'
    var location = answer.headers().firstValue("Location").orElseThrow(() -> new ArcException(
        "the CE's new delegation has no Location header", 201, true, null));
    return new Csr(location.substring(location.lastIndexOf('/') + 1), answer.body());
  }

  String renewDelegation(String delegationId) throws ArcException {
    return send("delegation renewal", request("/delegations/" + segment(delegationId)
        + "?action=renew").POST(HttpRequest.BodyPublishers.noBody()), 201).body();
  }

  void putDelegation(String delegationId, String chainPem) throws ArcException {
    send("delegation upload", request("/delegations/" + segment(delegationId))
        .header("Content-Type", "application/x-pem-file")
        .PUT(HttpRequest.BodyPublishers.ofString(chainPem, StandardCharsets.US_ASCII)), 200);
  }

  /** The proxy the CE stores for a delegation (PEM), as {@code action=get} returns it. */
  String getDelegation(String delegationId) throws ArcException {
    return send("delegation", request("/delegations/" + segment(delegationId) + "?action=get")
        .POST(HttpRequest.BodyPublishers.noBody()), 200).body();
  }

  /** The delegation ids of this identity. */
  List<String> delegations() throws ArcException {
    var answer = send("delegations", request("/delegations").GET(), 200);
    return ArcJson.list(parse("delegations", answer), "delegation").stream()
        .map(d -> ArcJson.text(d, "id").orElse("")).filter(s -> !s.isEmpty()).toList();
  }

  // ---- plumbing ---------------------------------------------------------------------------------

  private HttpRequest.Builder request(String path) throws ArcException {
    return builder(URI.create(resolvedBase() + path));
  }

  private HttpRequest.Builder builder(URI uri) {
    var b = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", JSON);
    token.get().ifPresent(t -> b.header("Authorization", "Bearer " + t));
    return b;
  }

  private static String session(String id, String sessionPath) {
    var sb = new StringBuilder("/jobs/").append(segment(id)).append("/session");
    for (var part : sessionPath.split("/")) {
      sb.append('/').append(segment(part));
    }
    return sb.toString();
  }

  private static String segment(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private HttpResponse<String> send(String what, HttpRequest.Builder req, int expected)
      throws ArcException {
    var answer = exchange(what, req);
    if (answer.statusCode() != expected) {
      throw failed(what, answer.statusCode(), answer.body());
    }
    return answer;
  }

  private HttpResponse<String> exchange(String what, HttpRequest.Builder req)
      throws ArcException {
    requests.incrementAndGet();
    var built = req.build();
    try {
      return http.send(built, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      // a refused or timed-out connect sent nothing; anything later may have reached A-REX
      throw io(what, e, !(e instanceof ConnectException || e instanceof HttpConnectTimeoutException
          || e.getCause() instanceof ConnectException));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ArcException(what + " at " + base() + ": interrupted", -1, true, e);
    }
  }

  private ArcException io(String what, IOException e, boolean maybeSent) {
    return new ArcException(what + " at " + base() + ": the CE did not answer (" + e + ")", -1,
        maybeSent, e);
  }

  private ArcException failed(String what, int status, String body) {
    // A-REX puts its message in the reason phrase, which HTTP/1.1 clients do not keep; the body
    // has it sometimes
    var detail = body == null || body.isBlank() ? "" : ": " + abbreviate(body.strip());
    return new ArcException(what + " at " + base() + ": the CE answered HTTP " + status + detail
        + (status == 403 ? " (is this certificate's DN or token allowed by the CE's "
            + "allowaccess?)" : ""), status, status >= 500, null);
  }

  private JsonNode parse(String what, HttpResponse<String> answer) throws ArcException {
    try {
      return ArcJson.parse(answer.body());
    } catch (IOException e) {
      throw new ArcException(what + " at " + base() + ": the CE's answer is not JSON: "
          + abbreviate(answer.body()), answer.statusCode(), true, e);
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 300 ? s : s.substring(0, 300) + "...";
  }
}
