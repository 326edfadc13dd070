package org.jobyard.engine.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jobyard.api.Durations;
import org.jobyard.engine.fairshare.Shares;

/**
 * Reads {@code conf/jobyard.yaml}:
 *
 * <pre>
 * database: {url: jdbc:postgresql://db/jobyard, user: jobyard, password: secret}
 * api:
 *   listen: 127.0.0.1:8642
 *   tokens: [{user: alice, token: s3cret-at-least-16-chars}, {user: ops, token_file: ops.token, admin: true}]
 * engine: {poll_interval: 5s, submit_batch: 200, lost_after: 10m}
 * default_clusters: [hpc, local]
 * metrics: {allow: [127.0.0.0/8, ::1/128, 10.1.2.0/24]}
 * fair_share: {shares: {alice: 3, bob: 1}, default: 1}
 * clusters:
 *   local: {backend: local, slots: 4}
 *   hpc:
 *     backend: slurm
 *     partition: debug
 *     transport: {type: ssh, host: login.example.org, user: alice, identity: ~/.ssh/id_ed25519}
 * </pre>
 *
 * Every section is optional; with none, jobs run on one local cluster and are stored in H2 under
 * {@code var/db}.
 */
public final class ConfigLoader {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> TOP =
      Set.of("database", "api", "engine", "clusters", "default_clusters", "metrics",
          "fair_share");

  private ConfigLoader() {}

  /** The configuration with nothing set: H2 under {@code home/var/db} and one local cluster. */
  public static EngineConfig defaults(Path home) {
    return parse(home, YAML.createObjectNode(), "(defaults)");
  }

  /** Environment variables that override one setting each, for the common cases (issue 21). */
  public static final Map<String, String> ENV_OVERRIDES = envOverrides();

  private static Map<String, String> envOverrides() {
    var m = new LinkedHashMap<String, String>();
    m.put("JOBYARD_DATABASE_URL", "database.url");
    m.put("JOBYARD_DATABASE_USER", "database.user");
    m.put("JOBYARD_DATABASE_PASSWORD", "database.password");
    m.put("JOBYARD_API_LISTEN", "api.listen");
    m.put("JOBYARD_POLL_INTERVAL", "engine.poll_interval");
    m.put("JOBYARD_DEFAULT_CLUSTERS", "default_clusters");
    return java.util.Collections.unmodifiableMap(m);
  }

  /**
   * The configuration as written, with the environment's overrides applied, and where each
   * overridden setting came from.
   *
   * @param tree the merged document
   * @param overrides dotted setting name to the variable that set it
   */
  public record Effective(JsonNode tree, Map<String, String> overrides) {}

  /** Reads the layout's file (or nothing) and applies {@link #ENV_OVERRIDES} from {@code env}. */
  public static Effective effective(Layout layout, Map<String, String> env) {
    var root = layout.config() == null ? YAML.createObjectNode() : read(layout.config());
    var overrides = new LinkedHashMap<String, String>();
    if (root instanceof com.fasterxml.jackson.databind.node.ObjectNode obj) {
      for (var o : ENV_OVERRIDES.entrySet()) {
        var value = env.get(o.getKey());
        if (value == null || value.isBlank()) {
          continue;
        }
        var dot = o.getValue().indexOf('.');
        if (dot < 0) {
          var list = obj.putArray(o.getValue());
          for (var item : value.split(",")) {
            if (!item.isBlank()) {
              list.add(item.strip());
            }
          }
        } else {
          var section = o.getValue().substring(0, dot);
          if (!(obj.get(section) instanceof com.fasterxml.jackson.databind.node.ObjectNode)) {
            if (obj.has(section) && !obj.get(section).isNull()) {
              continue; // a section of the wrong type: parse() names it
            }
            obj.putObject(section);
          }
          ((com.fasterxml.jackson.databind.node.ObjectNode) obj.get(section))
              .put(o.getValue().substring(dot + 1), value);
        }
        overrides.put(o.getValue(), o.getKey());
      }
    }
    return new Effective(root, overrides);
  }

  /** The layout's configuration with the environment's overrides, state in the layout's folder. */
  public static EngineConfig load(Layout layout, Map<String, String> env) {
    var e = effective(layout, env);
    var source = layout.config() == null ? "(defaults)" : layout.config().toString();
    if (!e.overrides().isEmpty()) {
      source += " with " + String.join(", ", new java.util.LinkedHashSet<>(
          e.overrides().values()));
    }
    return parse(layout.install(), layout.state(), e.tree(), source);
  }

  private static JsonNode read(Path file) {
    JsonNode root;
    try {
      root = YAML.readTree(file.toFile());
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read the configuration: " + e.getMessage(), e);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      root = YAML.createObjectNode();
    }
    return root;
  }

  public static EngineConfig load(Path home, Path file) {
    return parse(home, read(file), file.toString());
  }

  static EngineConfig parse(Path home, JsonNode root, String source) {
    return parse(home, null, root, source);
  }

  /** @param state the state folder, or null for {@code home/var} */
  static EngineConfig parse(Path home, Path state, JsonNode root, String source) {
    if (!root.isObject()) {
      throw new ConfigException(source + ": expected a mapping at the top level");
    }
    var unknown = new ArrayList<String>();
    root.fieldNames().forEachRemaining(f -> {
      if (!TOP.contains(f)) {
        unknown.add(f);
      }
    });
    if (!unknown.isEmpty()) {
      throw new ConfigException(source + ": unknown setting(s) " + unknown + "; known: " + TOP);
    }
    home = home.toAbsolutePath().normalize();
    state = state == null ? home.resolve("var") : state.toAbsolutePath().normalize();
    var db = root.path("database");
    var defaultUrl = "jdbc:h2:file:" + state.resolve("db/jobyard");
    var database = new EngineConfig.Database(
        text(db, "url", defaultUrl), text(db, "user", "jobyard"),
        secretRef(text(db, "password", ""), home, source + ": database.password"),
        integer(db, "pool_size", 4, source + ": database.pool_size"),
        duration(db, "lease", EngineConfig.Database.DEFAULT_LEASE, source + ": database.lease"));
    if (database.lease().toMillis() < 1000) {
      throw new ConfigException(source + ": database.lease: " + database.lease() + " is too short;"
          + " give at least 1s (the heartbeat renews it every second)");
    }
    var api = api(home, root.path("api"), source);
    var e = root.path("engine");
    var d = EngineConfig.Tuning.DEFAULT;
    var tuning = new EngineConfig.Tuning(
        duration(e, "poll_interval", d.pollInterval(), source + ": engine.poll_interval"),
        integer(e, "submit_batch", d.submitBatch(), source + ": engine.submit_batch"),
        duration(e, "lost_after", d.lostAfter(), source + ": engine.lost_after"),
        duration(e, "retry_backoff", d.retryBackoff(), source + ": engine.retry_backoff"));
    if (tuning.submitBatch() < 1) {
      throw new ConfigException(source + ": engine.submit_batch must be at least 1");
    }

    var clusters = new LinkedHashMap<String, ClusterConfig>();
    var cnode = root.path("clusters");
    if (!cnode.isMissingNode() && !cnode.isNull() && !cnode.isObject()) {
      throw new ConfigException(source + ": clusters must be a mapping of name to settings");
    }
    var it = cnode.fields();
    while (it.hasNext()) {
      var entry = it.next();
      clusters.put(entry.getKey(), cluster(entry.getKey(), entry.getValue(), source));
    }
    if (clusters.isEmpty()) {
      clusters.put("local", new ClusterConfig("local", "local", Map.of("type", "local"),
          Map.of(), null, 0));
    }
    var defaults = new ArrayList<String>();
    var dnode = root.path("default_clusters");
    if (dnode.isArray()) {
      dnode.forEach(n -> defaults.add(n.asText()));
    } else if (!dnode.isMissingNode()) {
      throw new ConfigException(source + ": default_clusters must be a list of cluster names");
    }
    for (var name : defaults) {
      if (!clusters.containsKey(name)) {
        throw new ConfigException(source + ": default_clusters names '" + name
            + "', which is not a configured cluster; known: " + clusters.keySet());
      }
    }
    if (defaults.isEmpty()) {
      defaults.add(clusters.containsKey("local") ? "local" : clusters.keySet().iterator().next());
    }
    return new EngineConfig(home, database, api, tuning, clusters, defaults,
        metrics(root.path("metrics"), source), state, fairShare(root.path("fair_share"), source));
  }

  /** The {@code fair_share} section: {@code {shares: {alice: 3, bob: 1}, default: 1}}. */
  private static Shares fairShare(JsonNode node, String source) {
    var where = source + ": fair_share";
    if (node.isMissingNode() || node.isNull()) {
      return Shares.EQUAL;
    }
    if (!node.isObject()) {
      throw new ConfigException(where + ": expected a mapping such as {shares: {alice: 3, bob: 1}"
          + ", default: 1}");
    }
    unknownFields(node, Set.of("shares", "default"), where);
    var shares = new LinkedHashMap<String, Double>();
    var snode = node.path("shares");
    if (!snode.isMissingNode() && !snode.isNull() && !snode.isObject()) {
      throw new ConfigException(where + ".shares: expected a mapping of user name to share, such "
          + "as {alice: 3, bob: 1}");
    }
    snode.fields().forEachRemaining(e -> shares.put(e.getKey(), share(e.getValue(),
        where + ".shares." + e.getKey())));
    var dnode = node.path("default");
    var fallback = dnode.isMissingNode() || dnode.isNull() ? 1 : share(dnode, where + ".default");
    return new Shares(shares, fallback);
  }

  private static double share(JsonNode v, String where) {
    if (!v.isNumber() || !(v.asDouble() > 0) || !Double.isFinite(v.asDouble())) {
      throw new ConfigException(where + ": expected a share, a number above 0 such as 1 or 2.5, "
          + "got '" + v.asText() + "'");
    }
    return v.asDouble();
  }

  /** The {@code metrics} section: who may scrape {@code /metrics} (loopback by default). */
  private static EngineConfig.Metrics metrics(JsonNode node, String source) {
    var where = source + ": metrics";
    if (node.isMissingNode() || node.isNull()) {
      return EngineConfig.Metrics.DEFAULT;
    }
    if (!node.isObject()) {
      throw new ConfigException(where + ": expected a mapping such as {allow: [127.0.0.0/8]}");
    }
    unknownFields(node, Set.of("allow"), where);
    var anode = node.path("allow");
    if (anode.isMissingNode()) {
      return EngineConfig.Metrics.DEFAULT;
    }
    if (!anode.isArray()) {
      throw new ConfigException(where + ".allow: expected a list of addresses or CIDR ranges, "
          + "such as [127.0.0.0/8, '::1/128']");
    }
    var allow = new ArrayList<String>();
    anode.forEach(n -> allow.add(n.asText()));
    try {
      org.jobyard.engine.metrics.AllowList.parse(allow);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(where + ".allow: " + e.getMessage(), e);
    }
    return new EngineConfig.Metrics(allow);
  }

  /** The {@code api} section: where to listen and who may call (the local user needs no entry). */
  private static EngineConfig.Api api(Path home, JsonNode node, String source) {
    var where = source + ": api";
    if (node.isMissingNode() || node.isNull()) {
      return new EngineConfig.Api("127.0.0.1:0", List.of());
    }
    if (!node.isObject()) {
      throw new ConfigException(where + ": expected a mapping such as {listen: 127.0.0.1:8642}");
    }
    unknownFields(node, Set.of("listen", "tokens", "tls", "insecure"), where);
    var listen = text(node, "listen", "127.0.0.1:0");
    var colon = listen.lastIndexOf(':');
    if (colon <= 0 || !listen.substring(colon + 1).matches("\\d{1,5}")
        || Integer.parseInt(listen.substring(colon + 1)) > 65535) {
      throw new ConfigException(where + ".listen: expected host:port (port 0 for a free one), got '"
          + listen + "'");
    }
    var tokens = new ArrayList<EngineConfig.Api.Token>();
    var tnode = node.path("tokens");
    if (!tnode.isMissingNode() && !tnode.isNull() && !tnode.isArray()) {
      throw new ConfigException(where + ".tokens: expected a list of {user, token or token_file, "
          + "admin}");
    }
    var seen = new java.util.HashSet<String>();
    for (int i = 0; i < tnode.size(); i++) {
      var t = tnode.get(i);
      var at = where + ".tokens[" + (i + 1) + "]";
      if (!t.isObject()) {
        throw new ConfigException(at + ": expected {user, token or token_file, admin}");
      }
      unknownFields(t, Set.of("user", "token", "token_file", "admin", "account", "workspace"), at);
      var user = text(t, "user", "");
      if (user.isBlank()) {
        throw new ConfigException(at + ".user: required");
      }
      String secret;
      if (t.has("token") == t.has("token_file")) {
        throw new ConfigException(at + ": give exactly one of 'token' and 'token_file'");
      } else if (t.has("token")) {
        secret = t.path("token").asText();
      } else {
        var file = path(home, t.path("token_file").asText());
        try {
          secret = Files.readString(file).strip();
        } catch (IOException e) {
          throw new ConfigException(at + ".token_file: cannot read " + file + ": " + e.getMessage(),
              e);
        }
      }
      if (secret.length() < 16 || secret.chars().anyMatch(c -> c <= ' ' || c > '~')) {
        throw new ConfigException(at + ": a token needs at least 16 printable characters without "
            + "spaces (for example: openssl rand -hex 24)");
      }
      if (!seen.add(secret)) {
        throw new ConfigException(at + ": this token is already given to another entry");
      }
      var admin = t.path("admin");
      if (!admin.isMissingNode() && !admin.isBoolean()) {
        throw new ConfigException(at + ".admin: expected true or false");
      }
      var account = text(t, "account", null);
      if (account != null && !account.matches("[a-z_][a-z0-9_.-]*")) {
        throw new ConfigException(at + ".account: expected an OS account name, got '" + account
            + "'");
      }
      var workspace = text(t, "workspace", null);
      tokens.add(new EngineConfig.Api.Token(user, secret, admin.asBoolean(false), account,
          workspace == null ? null : path(home, workspace).normalize()));
    }
    return new EngineConfig.Api(listen, tokens, tls(home, node.path("tls"), where + ".tls"),
        bool(node, "insecure", where + ".insecure"));
  }

  private static EngineConfig.Api.Tls tls(Path home, JsonNode node, String where) {
    if (node.isMissingNode() || node.isNull()) {
      return null;
    }
    if (!node.isObject() || !node.path("certificate").isTextual()
        || !node.path("key").isTextual()) {
      throw new ConfigException(where + ": expected {certificate: cert.pem, key: key.pem}");
    }
    unknownFields(node, Set.of("certificate", "key"), where);
    return new EngineConfig.Api.Tls(path(home, node.path("certificate").asText()),
        path(home, node.path("key").asText()));
  }

  private static boolean bool(JsonNode node, String field, String where) {
    var v = node.path(field);
    if (!v.isMissingNode() && !v.isBoolean()) {
      throw new ConfigException(where + ": expected true or false");
    }
    return v.asBoolean(false);
  }

  private static void unknownFields(JsonNode node, Set<String> known, String where) {
    var unknown = new ArrayList<String>();
    node.fieldNames().forEachRemaining(f -> {
      if (!known.contains(f)) {
        unknown.add(f);
      }
    });
    if (!unknown.isEmpty()) {
      throw new ConfigException(where + ": unknown setting(s) " + unknown + "; known: "
          + new java.util.TreeSet<>(known));
    }
  }

  private static ClusterConfig cluster(String name, JsonNode node, String source) {
    var where = source + ": clusters." + name;
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
      throw new ConfigException(where + ": a cluster name may hold letters, digits, '.', '_' and "
          + "'-' only");
    }
    if (!node.isObject()) {
      throw new ConfigException(where + ": expected a mapping with at least 'backend'");
    }
    var backend = node.path("backend");
    if (!backend.isTextual() || backend.asText().isBlank()) {
      throw new ConfigException(where + ".backend: required (e.g. local, slurm, condor, arc)");
    }
    Map<String, Object> transport = new LinkedHashMap<>();
    var tnode = node.path("transport");
    if (tnode.isObject()) {
      transport = YAML.convertValue(tnode, YAML.getTypeFactory()
          .constructMapType(LinkedHashMap.class, String.class, Object.class));
    } else if (tnode.isTextual()) {
      transport.put("type", tnode.asText());
    } else if (!tnode.isMissingNode()) {
      throw new ConfigException(where + ".transport: expected a mapping such as {type: ssh, "
          + "host: ..., user: ...}");
    }
    if (!tnode.isMissingNode()) {
      transport.putIfAbsent("type", "local");
    }
    // no transport at all: the backend decides (local for a command-line backend, none for HTTP)
    var type = String.valueOf(transport.getOrDefault("type", "local"));
    if (!List.of("local", "ssh", "none").contains(type)) {
      throw new ConfigException(where + ".transport.type: expected local, ssh or none, got '"
          + type + "'");
    }
    var settings = new LinkedHashMap<String, String>();
    var it = node.fields();
    while (it.hasNext()) {
      var f = it.next();
      switch (f.getKey()) {
        case "backend", "transport", "poll_interval", "max_jobs", "users", "held_timeout",
            "submit_rate", "max_pending", "keep_sandbox", "downtime" -> { }
        default -> {
          if (f.getValue().isContainerNode()) {
            throw new ConfigException(where + "." + f.getKey()
                + ": expected a plain value (text or number)");
          }
          settings.put(f.getKey(), f.getValue().asText());
        }
      }
    }
    var users = new java.util.LinkedHashSet<String>();
    var unode = node.path("users");
    if (!unode.isMissingNode() && !unode.isNull() && !unode.isArray()) {
      throw new ConfigException(where + ".users: expected a list of API user names (or [\"*\"])");
    }
    unode.forEach(u -> users.add(u.asText()));
    return new ClusterConfig(name, backend.asText(), transport, settings,
        duration(node, "poll_interval", null, where + ".poll_interval"),
        integer(node, "max_jobs", 0, where + ".max_jobs"), users, policy(node, where));
  }

  /** The engine's pacing of one cluster: held_timeout, submit_rate, max_pending, keep_sandbox. */
  private static ClusterConfig.Policy policy(JsonNode node, String where) {
    var rate = node.path("submit_rate");
    double submitRate = 0;
    if (!rate.isMissingNode() && !rate.isNull()) {
      if (!rate.isNumber() || rate.asDouble() <= 0 || !Double.isFinite(rate.asDouble())) {
        throw new ConfigException(where + ".submit_rate: expected jobs per second, a number "
            + "above 0 such as 5 or 0.5, got '" + rate.asText() + "'");
      }
      submitRate = rate.asDouble();
    }
    int maxPending = integer(node, "max_pending", 0, where + ".max_pending");
    if (maxPending < 0) {
      throw new ConfigException(where + ".max_pending: expected 0 (no limit) or more, got "
          + maxPending);
    }
    return new ClusterConfig.Policy(duration(node, "held_timeout", null, where + ".held_timeout"),
        submitRate, maxPending, bool(node, "keep_sandbox", where + ".keep_sandbox"),
        downtime(node.path("downtime"), where + ".downtime"));
  }

  /** {@code downtime: [{from: 2026-12-01T08:00Z, to: 2026-12-01T12:00Z}]}, times with a zone. */
  private static List<ClusterConfig.Downtime> downtime(JsonNode node, String where) {
    if (node.isMissingNode() || node.isNull()) {
      return List.of();
    }
    if (!node.isArray()) {
      throw new ConfigException(where + ": expected a list of {from, to} windows, such as "
          + "[{from: 2026-12-01T08:00Z, to: 2026-12-01T12:00Z}]");
    }
    var out = new ArrayList<ClusterConfig.Downtime>();
    for (int i = 0; i < node.size(); i++) {
      var w = node.get(i);
      var at = where + "[" + (i + 1) + "]";
      if (!w.isObject()) {
        throw new ConfigException(at + ": expected {from: 2026-12-01T08:00Z, to: "
            + "2026-12-01T12:00Z}");
      }
      unknownFields(w, Set.of("from", "to"), at);
      var from = instant(w, "from", at);
      var to = instant(w, "to", at);
      if (!to.isAfter(from)) {
        throw new ConfigException(at + ": 'to' (" + to + ") must be after 'from' (" + from + ")");
      }
      out.add(new ClusterConfig.Downtime(from, to));
    }
    return out;
  }

  private static java.time.Instant instant(JsonNode node, String field, String where) {
    var v = node.path(field);
    if (!v.isTextual()) {
      throw new ConfigException(where + "." + field + ": required, a time with its zone such as "
          + "2026-12-01T08:00Z or 2026-12-01T09:00+01:00");
    }
    try {
      return java.time.OffsetDateTime.parse(v.asText()).toInstant();
    } catch (java.time.format.DateTimeParseException e) {
      throw new ConfigException(where + "." + field + ": expected a time with its zone such as "
          + "2026-12-01T08:00Z or 2026-12-01T09:00+01:00, got '" + v.asText() + "'", e);
    }
  }

  /**
   * A password given as {@code file:PATH} (relative to the home; the content without its trailing
   * newline) or {@code env:NAME}, so that it need not sit in the configuration file; any other
   * value is the password itself.
   */
  public static String secretRef(String value, Path home, String where) {
    if (value.startsWith("file:")) {
      var file = path(home, value.substring("file:".length()));
      try {
        return java.nio.file.Files.readString(file).strip();
      } catch (IOException e) {
        throw new ConfigException(where + ": cannot read the password file " + file + ": "
            + e.getMessage() + "; check the path and that this user may read it", e);
      }
    }
    if (value.startsWith("env:")) {
      var name = value.substring("env:".length());
      var v = System.getenv(name);
      if (v == null || v.isEmpty()) {
        throw new ConfigException(where + ": the environment variable " + name + " is not set "
            + "(or empty); set it, or give the password as file:PATH");
      }
      return v;
    }
    return value;
  }

  private static String text(JsonNode node, String field, String fallback) {
    var v = node.path(field);
    return v.isMissingNode() || v.isNull() ? fallback : v.asText();
  }

  private static int integer(JsonNode node, String field, int fallback, String where) {
    var v = node.path(field);
    if (v.isMissingNode() || v.isNull()) {
      return fallback;
    }
    if (!v.canConvertToInt() || !v.isIntegralNumber()) {
      throw new ConfigException(where + ": expected a whole number, got '" + v.asText() + "'");
    }
    return v.asInt();
  }

  private static Duration duration(JsonNode node, String field, Duration fallback, String where) {
    var v = node.path(field);
    if (v.isMissingNode() || v.isNull()) {
      return fallback;
    }
    return Durations.parse(v.asText()).filter(d -> !d.isZero()).orElseThrow(() ->
        new ConfigException(where + ": expected a duration like 500ms, 5s or 2m, got '"
            + v.asText() + "'"));
  }

  /** Expands a leading {@code ~} and resolves relative paths against {@code home}. */
  public static Path path(Path home, String value) {
    if (value.startsWith("~/")) {
      return Path.of(System.getProperty("user.home"), value.substring(2));
    }
    var p = Path.of(value);
    return p.isAbsolute() ? p : home.resolve(p);
  }

}
