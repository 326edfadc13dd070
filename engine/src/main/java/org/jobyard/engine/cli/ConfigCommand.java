package org.jobyard.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.config.Layout;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jobyard config}: the effective configuration and where each part of it came from. */
@Command(name = "config", mixinStandardHelpOptions = true,
    description = {"Prints the configuration an engine started here would use, section by section "
        + "with where it came from (file, environment variable or built-in default), and the "
        + "folders of the installation and of this user's state. Secrets are masked.",
        "",
        "The file is the first of: --config, JOBYARD_CONFIG, conf/jobyard.yaml of JOBYARD_HOME "
            + "(or --home), $XDG_CONFIG_HOME/jobyard/jobyard.yaml (~/.config/jobyard/jobyard.yaml),"
            + " conf/jobyard.yaml of the installation. Environment variables override single "
            + "settings: " + "JOBYARD_DATABASE_URL, JOBYARD_DATABASE_USER, "
            + "JOBYARD_DATABASE_PASSWORD, JOBYARD_API_LISTEN, JOBYARD_POLL_INTERVAL, "
            + "JOBYARD_DEFAULT_CLUSTERS (comma-separated)."},
    footer = {"", "Exit status: 0 the configuration is valid; 2 it is not (the message names the "
        + "file and setting).", "", "Examples:", "  jobyard config",
        "  JOBYARD_DATABASE_URL=jdbc:postgresql://db/jobyard jobyard config -o json"})
final class ConfigCommand implements java.util.concurrent.Callable<Integer> {
  static final String MASK = "********";
  /** Transport settings that hold a secret. */
  private static final Set<String> SECRET_KEYS = Set.of("password", "passphrase", "token",
      "secret");

  @Spec
  CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE",
      description = "configuration file (default: found as described above)")
  Path configFile;

  @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
      description = "table (commented YAML) or json")
  String output;

  @Override
  public Integer call() {
    var layout = Main.layout(configFile);
    var config = Main.configured(() -> layout.load(System.getenv()));
    var effective = Main.configured(() -> ConfigLoader.effective(layout, System.getenv()));
    var sections = render(config);
    var names = new java.util.LinkedHashSet<String>();
    sections.fieldNames().forEachRemaining(names::add);
    var origins = origins(layout, effective, names);
    var out = spec.commandLine().getOut();
    if ("json".equals(output.toLowerCase(Locale.ROOT))) {
      var root = Client.JSON.createObjectNode();
      var sources = root.putObject("sources");
      sources.put("installation", layout.install().toString());
      sources.put("state", layout.state().toString());
      sources.put("state_from", layout.stateOrigin());
      sources.put("file", layout.config() == null ? null : layout.config().toString());
      sources.put("file_from", layout.configOrigin());
      sources.set("sections", Client.JSON.valueToTree(origins));
      sources.set("overrides", Client.JSON.valueToTree(effective.overrides()));
      root.set("config", sections);
      out.println(root.toPrettyString());
    } else {
      out.println("# installation:  " + layout.install());
      out.println("# state:         " + layout.state() + "   (" + layout.stateOrigin() + ")");
      out.println("# configuration: " + (layout.config() == null ? "none"
          : layout.config().toString()) + "   (" + layout.configOrigin() + ")");
      effective.overrides().forEach((setting, variable) ->
          out.println("# " + setting + " set by " + variable));
      var yaml = new ObjectMapper(new YAMLFactory()
          .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
          .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));
      var it = sections.fields();
      while (it.hasNext()) {
        var e = it.next();
        out.println();
        out.println("# " + e.getKey() + ": " + origins.get(e.getKey()));
        var one = Client.JSON.createObjectNode().set(e.getKey(), e.getValue());
        try {
          out.print(yaml.writeValueAsString(one));
        } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
          throw new IllegalStateException(ex);
        }
      }
    }
    out.flush();
    return Main.OK;
  }

  /** Where each top-level section came from. */
  static Map<String, String> origins(Layout layout, ConfigLoader.Effective effective,
      Set<String> sections) {
    var origins = new LinkedHashMap<String, String>();
    var file = layout.config() == null ? null : layout.config().toString();
    for (var s : sections) {
      var vars = effective.overrides().entrySet().stream()
          .filter(o -> o.getKey().equals(s) || o.getKey().startsWith(s + "."))
          .map(Map.Entry::getValue).toList();
      var node = effective.tree().path(s);
      var written = new java.util.ArrayList<String>();
      node.fieldNames().forEachRemaining(f -> {
        if (!effective.overrides().containsKey(s + "." + f)) {
          written.add(f);
        }
      });
      // the file wrote (part of) it unless the environment replaced all of what is there
      var fromFile = file != null && !node.isMissingNode() && !effective.overrides()
          .containsKey(s) && (!node.isObject() || !written.isEmpty());
      var from = new java.util.ArrayList<String>();
      if (fromFile) {
        from.add(file);
      }
      from.addAll(vars);
      origins.put(s, from.isEmpty() ? "built-in default" : String.join(" + ", from)
          + (fromFile || vars.isEmpty() ? "" : " (the rest: built-in default)"));
    }
    return origins;
  }

  /** A duration as the configuration writes it: 500ms, 5s, 10m, 2h. */
  static String duration(java.time.Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    } else if (ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
  }

  private static String masked(String key, String value) {
    var k = key.toLowerCase(Locale.ROOT);
    return SECRET_KEYS.stream().anyMatch(k::contains) ? MASK : value;
  }

  /** The parsed configuration as a document, secrets masked. */
  static ObjectNode render(EngineConfig c) {
    var root = Client.JSON.createObjectNode();
    var db = root.putObject("database");
    db.put("url", c.database().url());
    db.put("user", c.database().user());
    db.put("password", c.database().password().isEmpty() ? "" : MASK);
    db.put("pool_size", c.database().poolSize());
    var api = root.putObject("api");
    api.put("listen", c.api().listen());
    if (c.api().tls() != null) {
      api.putObject("tls").put("certificate", c.api().tls().certificate().toString())
          .put("key", c.api().tls().key().toString());
    }
    api.put("insecure", c.api().insecure());
    var tokens = api.putArray("tokens");
    for (var t : c.api().tokens()) {
      var o = tokens.addObject().put("user", t.user()).put("token", MASK).put("admin", t.admin());
      if (t.account() != null) {
        o.put("account", t.account());
      }
      if (t.workspace() != null) {
        o.put("workspace", t.workspace().toString());
      }
    }
    var e = root.putObject("engine");
    e.put("poll_interval", duration(c.engine().pollInterval()));
    e.put("submit_batch", c.engine().submitBatch());
    e.put("lost_after", duration(c.engine().lostAfter()));
    e.put("retry_backoff", duration(c.engine().retryBackoff()));
    var defaults = root.putArray("default_clusters");
    c.defaultClusters().forEach(defaults::add);
    var clusters = root.putObject("clusters");
    for (var cc : c.clusters().values()) {
      var o = clusters.putObject(cc.name());
      o.put("backend", cc.backend());
      new java.util.TreeMap<>(cc.settings()).forEach((k, v) -> o.put(k, masked(k, v)));
      if (cc.pollInterval() != null) {
        o.put("poll_interval", duration(cc.pollInterval()));
      }
      if (cc.maxJobs() > 0) {
        o.put("max_jobs", cc.maxJobs());
      }
      if (!cc.users().isEmpty()) {
        var users = o.putArray("users");
        new java.util.TreeSet<>(cc.users()).forEach(users::add);
      }
      var t = o.putObject("transport");
      new java.util.TreeMap<>(cc.transport()).forEach((k, v) -> t.put(k,
          masked(k, String.valueOf(v))));
      if (!cc.policy().downtime().isEmpty()) {
        var windows = o.putArray("downtime");
        cc.policy().downtime().forEach(w -> windows.addObject().put("from", w.from().toString())
            .put("to", w.to().toString()));
      }
    }
    var allow = root.putObject("metrics").putArray("allow");
    c.metrics().allow().forEach(allow::add);
    var fair = root.putObject("fair_share");
    var shares = fair.putObject("shares");
    new java.util.TreeMap<>(c.fairShare().users()).forEach(shares::put);
    fair.put("default", c.fairShare().defaultShare());
    return root;
  }
}
