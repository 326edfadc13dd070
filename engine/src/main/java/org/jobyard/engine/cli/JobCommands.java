package org.jobyard.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jobyard.engine.spec.JobFileException;
import org.jobyard.engine.spec.JobFileReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The verbs that talk to a running engine over its REST API (drunc's vocabulary). */
final class JobCommands {
  private JobCommands() {}

  static final String EXIT_CODES = "Exit status: 0 done; 1 nothing matched, or the jobs' state "
      + "refused it (a live job for restart or flush), or the followed job did not succeed; "
      + "2 invalid input or credentials; 3 the engine is unreachable or failed.";
  static final String ENGINE_HELP = "The engine is at --engine URL, else JOBYARD_ENGINE, else "
      + "in run/engine.url of the state folder (written by 'jobyard engine'; 'jobyard config' "
      + "shows the folder); the token is JOBYARD_TOKEN, else run/token there.";

  /** Where the engine is and how to print. */
  static final class Connection {
    @Option(names = "--engine", paramLabel = "URL",
        description = "the engine's address, e.g. http://host:8642/ (default: JOBYARD_ENGINE, "
            + "else run/engine.url of the state folder)")
    String engine;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
        description = "table (for people) or json (for scripts); default: ${DEFAULT-VALUE}")
    String output;

    boolean json() {
      return switch (output) {
        case "json" -> true;
        case "table" -> false;
        default -> throw new CliException(Main.BAD_INPUT, "-o must be table or json, got '"
            + output + "'");
      };
    }

    Client client() {
      json(); // a bad -o fails before the engine is asked
      return Client.locate(engine);
    }
  }

  /** Which jobs: ids OR names OR users OR sessions (drunc's ProcessQuery), then by state. */
  static final class Selection {
    @Parameters(paramLabel = "ID", arity = "0..*", description = "job ids")
    List<String> positional = new ArrayList<>();

    @Option(names = "--id", paramLabel = "ID", split = ",", description = "job id (repeatable)")
    List<String> ids = new ArrayList<>();

    @Option(names = "--name", paramLabel = "NAME", split = ",",
        description = "job name (repeatable)")
    List<String> names = new ArrayList<>();

    @Option(names = "--user", paramLabel = "USER", split = ",",
        description = "owner (repeatable; others' jobs need an admin token)")
    List<String> users = new ArrayList<>();

    @Option(names = "--session", paramLabel = "SESSION", split = ",",
        description = "session (repeatable)")
    List<String> sessions = new ArrayList<>();

    @Option(names = "--state", paramLabel = "STATE", split = ",",
        description = "only jobs in this state: queued, submitting, pending, running, paused, "
            + "cancelling, succeeded, failed, cancelled (repeatable)")
    List<String> states = new ArrayList<>();

    List<String> allIds() {
      var all = new ArrayList<>(positional);
      all.addAll(ids);
      return all;
    }

    boolean isEmpty() {
      return allIds().isEmpty() && names.isEmpty() && users.isEmpty() && sessions.isEmpty()
          && states.isEmpty();
    }

    Map<String, Object> body() {
      var b = new LinkedHashMap<String, Object>();
      b.put("ids", allIds());
      b.put("names", names);
      b.put("users", users);
      b.put("sessions", sessions);
      b.put("states", states);
      return b;
    }

    String query() {
      var q = new LinkedHashMap<String, List<String>>();
      q.put("id", allIds());
      q.put("name", names);
      q.put("user", users);
      q.put("session", sessions);
      q.put("state", states);
      return Client.query(q);
    }
  }

  abstract static class Verb implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    Connection connection;

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    PrintWriter err() {
      return spec.commandLine().getErr();
    }

    void printJson(Object value) {
      try {
        out().println(PRETTY.writeValueAsString(value));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      out().flush();
    }
  }

  private static final ObjectMapper PRETTY = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT);

  // --- submit ------------------------------------------------------------------------------

  @Command(name = "submit", mixinStandardHelpOptions = true,
      description = {"Submits the jobs in FILE(s) to the running engine and prints their ids; "
          + "does not wait (see 'jobyard ps' and 'jobyard logs -f').",
          "",
          "Files are the same as for 'jobyard run' (YAML or JSON: one job, a list, or a sweep). "
              + "Every file is checked first: any problem rejects them all, naming the file, "
              + "the job and the field, and nothing is submitted. Relative paths (directory, "
              + "stdout, stderr, inputs, outputs) are taken from the current folder.",
          "", ENGINE_HELP},
      footer = {"", EXIT_CODES, "",
          "Examples:",
          "  jobyard submit examples/hello.yaml",
          "  jobyard submit -o json sweep.yaml | jq -r '.ids[]'",
          "  jobyard submit --engine http://engine.example.org:8642/ jobs.json"})
  static final class Submit extends Verb {
    @Parameters(paramLabel = "FILE", arity = "1..*",
        description = "job files (.yaml, .yml, .json)")
    List<Path> files;

    @Override
    public Integer call() {
      var json = connection.json();
      var documents = new ArrayList<JsonNode>();
      var names = new ArrayList<String>();
      var problems = new ArrayList<String>();
      for (var f : files) {
        try {
          JobFileReader.read(f).forEach(s -> names.add(s.name()));
          var isJson = f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json");
          var tree = (isJson ? Client.JSON : YAML).readTree(Files.readString(f));
          documents.add(Paths.resolveTree(tree, Path.of("")));
        } catch (JobFileException e) {
          problems.addAll(e.problems());
        } catch (IOException e) {
          problems.add(f + ": cannot read: " + e.getMessage());
        }
      }
      if (!problems.isEmpty()) {
        err().println("jobyard submit: rejected, nothing was submitted:");
        problems.forEach(p -> err().println("  " + p));
        return Main.BAD_INPUT;
      }
      var client = connection.client();
      var ids = new ArrayList<String>();
      for (int i = 0; i < documents.size(); i++) {
        JsonNode answer;
        try {
          answer = client.post("api/v1/jobs", Client.JSON.writeValueAsBytes(documents.get(i)),
              "application/json");
        } catch (IOException e) {
          throw new IllegalStateException(e);
        } catch (CliException e) {
          if (!ids.isEmpty()) {
            err().println("jobyard submit: " + files.get(i) + " was not submitted; the files "
                + "before it were: " + ids);
          }
          throw e;
        }
        answer.path("ids").forEach(id -> ids.add(id.asText()));
      }
      if (json) {
        printJson(Map.of("ids", ids));
      } else {
        var rows = new ArrayList<List<String>>();
        for (int i = 0; i < ids.size(); i++) {
          rows.add(List.of(ids.get(i), i < names.size() ? names.get(i) : ""));
        }
        Table.print(out(), List.of("ID", "NAME"), rows);
        out().flush();
      }
      return Main.OK;
    }
  }

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  // --- ps ----------------------------------------------------------------------------------

  @Command(name = "ps", mixinStandardHelpOptions = true,
      description = {"Lists jobs: yours (all of them with an admin token), or those selected by "
          + "ids OR names OR users OR sessions, narrowed by state.", "", ENGINE_HELP},
      footer = {"", EXIT_CODES + " For ps, 1 means a selection was given and no job matched.",
          "", "Examples:",
          "  jobyard ps",
          "  jobyard ps --session run-42 --state running,pending",
          "  jobyard ps --cluster hpc --watch 5s",
          "  jobyard ps --name analysis -o json | jq '.jobs[].state'"})
  static final class Ps extends Verb {
    @Mixin
    Selection selection;

    @Option(names = "--cluster", paramLabel = "CLUSTER", split = ",",
        description = "only jobs on this cluster (repeatable)")
    List<String> clusters = new ArrayList<>();

    @Option(names = "--watch", paramLabel = "INTERVAL", arity = "0..1", fallbackValue = "2s",
        description = "redraw the table every INTERVAL (default 2s) until Ctrl-C, like "
            + "'watch squeue'")
    String watch;

    @Override
    public Integer call() {
      var json = connection.json();
      if (watch == null) {
        return listOnce(json, false);
      }
      var every = org.jobyard.api.Durations.parse(watch).filter(d -> !d.isNegative()
          && d.compareTo(Duration.ofMillis(100)) >= 0).orElseThrow(() -> new CliException(
          Main.BAD_INPUT, "--watch: expected an interval of at least 100ms such as 2s or 1m, got '"
          + watch + "'"));
      if (json) {
        throw new CliException(Main.BAD_INPUT, "--watch draws a table for people; for scripts, "
            + "call 'ps -o json' in a loop");
      }
      while (!Thread.currentThread().isInterrupted()) {
        listOnce(false, true);
        try {
          Thread.sleep(every); // the refresh period itself, not a wait for a condition
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return Main.OK;
    }

    private int listOnce(boolean json, boolean redraw) {
      var answer = connection.client().get("api/v1/jobs" + selection.query());
      var jobs = new ArrayList<JsonNode>();
      answer.path("jobs").forEach(j -> {
        if (clusters.isEmpty() || clusters.contains(j.path("cluster").asText())) {
          jobs.add(j);
        }
      });
      if (json) {
        var filtered = answer.deepCopy();
        if (filtered instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
          o.set("jobs", Client.JSON.valueToTree(jobs));
        }
        printJson(filtered);
      } else {
        var rows = new ArrayList<List<String>>();
        var now = Instant.now();
        for (var j : jobs) {
          rows.add(List.of(j.path("id").asText(), j.path("name").asText(),
              j.path("owner").asText(), j.path("session").asText(""),
              j.path("state").asText().toLowerCase(Locale.ROOT),
              j.path("exit_code").isNumber() ? j.path("exit_code").asText() : "-",
              j.path("cluster").asText("-"),
              age(j.path("updated_at").asText(null), now),
              j.path("reason").asText("").replace('\n', ' ')));
        }
        if (redraw) {
          // home and clear on a terminal, then a heading that says when this table was read
          out().print("\033[H\033[2J");
          out().println("every " + watch + ": jobyard ps   " + java.time.LocalTime.now()
              .truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "   " + rows.size()
              + " job(s)");
        }
        if (rows.isEmpty()) {
          (redraw ? out() : err()).println(selection.isEmpty() && clusters.isEmpty() ? "no jobs"
              : "no job matches");
        } else {
          Table.print(out(), List.of("ID", "NAME", "USER", "SESSION", "STATE", "EXIT", "CLUSTER",
              "UPDATED", "REASON"), rows);
        }
        out().flush();
      }
      return jobs.isEmpty() && !(selection.isEmpty() && clusters.isEmpty()) ? Main.JOBS_FAILED
          : Main.OK;
    }
  }

  static String age(String instant, Instant now) {
    if (instant == null) {
      return "-";
    }
    try {
      var d = Duration.between(Instant.parse(instant), now);
      long s = Math.max(0, d.toSeconds());
      return s < 60 ? s + "s ago" : s < 3600 ? s / 60 + "m ago" : s < 86400 ? s / 3600 + "h ago"
          : s / 86400 + "d ago";
    } catch (RuntimeException e) {
      return instant;
    }
  }

  // --- kill, flush, pause, resume ----------------------------------------------------------

  /** A verb on a selection that answers with the ids it acted on. */
  abstract static class SelectionVerb extends Verb {
    @Mixin
    Selection selection;

    @Option(names = "--all", description = "every job you may see (needed when no selection "
        + "is given, so that a bare command never acts on everything)")
    boolean all;

    private final String verb;
    private final String done;

    /** {@code verb} names the API call ({@code kill}); {@code done} says it happened. */
    SelectionVerb(String verb, String done) {
      this.verb = verb;
      this.done = done;
    }

    @Override
    public Integer call() {
      var json = connection.json();
      if (selection.isEmpty() && !all) {
        throw new CliException(Main.BAD_INPUT, verb + " needs a selection: job ids, --name, "
            + "--user, --session or --state (or --all)");
      }
      var body = selection.body();
      if (all) {
        body.put("all", true);
      }
      var answer = connection.client().post("api/v1/jobs/" + verb, body);
      var ids = new ArrayList<String>();
      answer.path("ids").forEach(id -> ids.add(id.asText()));
      if (json) {
        printJson(answer);
      } else if (ids.isEmpty()) {
        err().println("jobyard " + verb + ": no job matched");
      } else {
        out().println(done + " " + ids.size() + " job(s): " + String.join(" ", ids));
      }
      out().flush();
      return ids.isEmpty() ? Main.JOBS_FAILED : Main.OK;
    }
  }

  @Command(name = "kill", mixinStandardHelpOptions = true,
      description = {"Cancels the selected live jobs (queued ones are never submitted, running "
          + "ones are cancelled on their cluster). Prints the ids it acted on.", "",
          ENGINE_HELP},
      footer = {"", EXIT_CODES, "", "Examples:", "  jobyard kill 1f3a9c2e4b5d",
          "  jobyard kill --session run-42", "  jobyard kill --all --state queued"})
  static final class Kill extends SelectionVerb {
    Kill() {
      super("kill", "killed");
    }
  }

  @Command(name = "flush", mixinStandardHelpOptions = true,
      description = {"Removes dead jobs (succeeded, failed, cancelled) from the engine, with "
          + "their sandboxes. If the selection holds a live job, nothing is removed.", "",
          ENGINE_HELP},
      footer = {"", EXIT_CODES, "", "Examples:", "  jobyard flush --state succeeded",
          "  jobyard flush --session run-42", "  jobyard flush --all"})
  static final class Flush extends SelectionVerb {
    Flush() {
      super("flush", "flushed");
    }
  }

  @Command(name = "pause", mixinStandardHelpOptions = true,
      description = {"Pauses the selected live jobs: queued ones wait, pending ones are held, "
          + "running ones are stopped (and start again from the beginning on resume).", "",
          ENGINE_HELP},
      footer = {"", EXIT_CODES, "", "Examples:", "  jobyard pause --session run-42",
          "  jobyard pause 1f3a9c2e4b5d"})
  static final class Pause extends SelectionVerb {
    Pause() {
      super("pause", "paused");
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true,
      description = {"Resumes the selected paused jobs.", "", ENGINE_HELP},
      footer = {"", EXIT_CODES, "", "Examples:", "  jobyard resume --session run-42",
          "  jobyard resume --all --state paused"})
  static final class Resume extends SelectionVerb {
    Resume() {
      super("resume", "resumed");
    }
  }

  // --- restart -----------------------------------------------------------------------------

  @Command(name = "restart", mixinStandardHelpOptions = true,
      description = {"Runs the selected finished jobs (failed, cancelled or succeeded) again, "
          + "each as a new attempt; same selection as kill. A job whose attempt failed on a "
          + "cluster that can resume it (ARC, staging failures) goes on there from where it failed instead. If the "
          + "selection holds a live job, nothing is restarted.", "", ENGINE_HELP},
      footer = {"", EXIT_CODES, "", "Examples:", "  jobyard restart 1f3a9c2e4b5d",
          "  jobyard restart --session run-42 --state failed",
          "  jobyard restart --name analysis --state failed"})
  static final class Restart extends SelectionVerb {
    Restart() {
      super("restart", "restarted");
    }
  }

  // --- logs --------------------------------------------------------------------------------

  @Command(name = "logs", mixinStandardHelpOptions = true,
      description = {"Prints the last lines of exactly one job's output (its stdout, or stderr "
          + "with --stderr); with -f, goes on printing what it writes until the job ends.", "",
          ENGINE_HELP},
      footer = {"", EXIT_CODES + " With -f, the exit status tells how the job ended: 0 it "
          + "succeeded, 1 it failed or was cancelled.",
          "", "Examples:", "  jobyard logs 1f3a9c2e4b5d", "  jobyard logs -n 20 --name analysis",
          "  jobyard logs -f --stderr 1f3a9c2e4b5d",
          "  jobyard logs -o json 1f3a9c2e4b5d | jq -r '.lines[]'"})
  static final class Logs extends Verb {
    @Mixin
    Selection selection;

    @Option(names = {"-n", "--lines"}, paramLabel = "N", defaultValue = "100",
        description = "how many lines from the end (default: ${DEFAULT-VALUE}; 0 with -f: only "
            + "new ones)")
    int lines;

    @Option(names = {"-f", "--follow"}, description = "keep printing until the job ends")
    boolean follow;

    @Option(names = "--stderr", description = "the job's stderr instead of its stdout")
    boolean stderr;

    @Override
    public Integer call() {
      var json = connection.json();
      if (lines < 0) {
        throw new CliException(Main.BAD_INPUT, "-n must be 0 or more, got " + lines);
      }
      if (selection.isEmpty()) {
        throw new CliException(Main.BAD_INPUT, "logs needs exactly one job: give its id or "
            + "--name");
      }
      var client = connection.client();
      var job = exactlyOne(client);
      var id = job.path("id").asText();
      var stream = stderr ? "stderr" : "stdout";
      var path = "api/v1/jobs/" + Client.encode(id) + "/logs" + Client.query(Map.of(
          "stream", List.of(stream), "lines", List.of(String.valueOf(lines)),
          "follow", List.of(String.valueOf(follow))));
      try (var in = client.stream(path);
           var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        if (json && !follow) {
          var all = new ArrayList<String>();
          reader.lines().forEach(all::add);
          var body = new LinkedHashMap<String, Object>();
          body.put("id", id);
          body.put("stream", stream);
          body.put("lines", all);
          printJson(body);
          return Main.OK;
        }
        String line;
        while ((line = reader.readLine()) != null) {
          if (json) {
            out().println(Client.JSON.writeValueAsString(Map.of("id", id, "line", line)));
          } else {
            out().println(line);
          }
          out().flush();
        }
      } catch (IOException e) {
        throw new CliException(Main.ENGINE_FAILED, "the log stream from the engine broke: "
            + e.getMessage());
      }
      if (!follow) {
        return Main.OK;
      }
      var state = connection.client().get("api/v1/jobs" + Client.query(Map.of("id",
          List.of(id)))).path("jobs").path(0).path("state").asText("");
      if (state.equals("SUCCEEDED")) {
        return Main.OK;
      }
      err().println("jobyard logs: job " + id + " ended " + state.toLowerCase(Locale.ROOT));
      return Main.JOBS_FAILED;
    }

    private JsonNode exactlyOne(Client client) {
      var jobs = client.get("api/v1/jobs" + selection.query()).path("jobs");
      if (jobs.isEmpty()) {
        throw new CliException(Main.JOBS_FAILED, "no job matches", "not_found");
      }
      if (jobs.size() > 1) {
        var ids = new ArrayList<String>();
        jobs.forEach(j -> ids.add(j.path("id").asText()));
        throw new CliException(Main.BAD_INPUT, "logs shows exactly one job, but " + jobs.size()
            + " match: " + ids.subList(0, Math.min(5, ids.size())) + "; give an id");
      }
      return jobs.get(0);
    }
  }

  // --- backends ----------------------------------------------------------------------------

  @Command(name = "backends", mixinStandardHelpOptions = true,
      description = {"Shows the loaded backend plugins, plugins that failed to load (with why), "
          + "and the configured clusters with their health.", "", ENGINE_HELP},
      footer = {"", EXIT_CODES, "", "Examples:", "  jobyard backends",
          "  jobyard backends -o json | jq '.clusters[] | {name, status}'"})
  static final class Backends extends Verb {
    @Override
    public Integer call() {
      var json = connection.json();
      var answer = connection.client().get("api/v1/backends");
      if (json) {
        printJson(answer);
        return Main.OK;
      }
      var out = out();
      out.println("PLUGINS");
      var plugins = new ArrayList<List<String>>();
      answer.path("plugins").forEach(p -> plugins.add(List.of(p.path("name").asText(),
          p.path("origin").asText())));
      Table.print(out, List.of("NAME", "ORIGIN"), plugins);
      if (!answer.path("broken_plugins").isEmpty()) {
        out.println();
        out.println("BROKEN PLUGINS");
        var broken = new ArrayList<List<String>>();
        answer.path("broken_plugins").forEach(p -> broken.add(List.of(p.path("name").asText(),
            p.path("origin").asText(), p.path("error").asText())));
        Table.print(out, List.of("NAME", "ORIGIN", "ERROR"), broken);
      }
      out.println();
      out.println("CLUSTERS");
      var clusters = new ArrayList<List<String>>();
      answer.path("clusters").forEach(c -> clusters.add(List.of(c.path("name").asText(),
          c.path("backend").asText(), c.path("status").asText(),
          c.path("submissions").path("state").asText("open"),
          c.path("live_jobs").asText(), c.path("transport").asText(),
          c.path("last_error").asText("").replace('\n', ' '))));
      Table.print(out, List.of("NAME", "BACKEND", "STATUS", "SUBMISSIONS", "LIVE", "TRANSPORT",
          "LAST ERROR"), clusters);
      // conditions (the backends' periodic hooks, credentials near expiry) and credentials
      var notes = new ArrayList<List<String>>();
      answer.path("clusters").forEach(c -> {
        c.path("conditions").forEach(k -> notes.add(List.of(c.path("name").asText(),
            k.path("severity").asText().toUpperCase(java.util.Locale.ROOT),
            k.path("subject").asText(), k.path("message").asText())));
        var sub = c.path("submissions");
        if (sub.path("state").asText().equals("drained")) {
          notes.add(List.of(c.path("name").asText(), "WARNING", "drained", "by "
              + sub.path("drained_by").asText() + " since " + sub.path("drained_since").asText()
              + (sub.path("reason").isTextual() ? ": " + sub.path("reason").asText() : "")
              + "; no new submissions ('jobyard undrain " + c.path("name").asText()
              + "' opens it)"));
        }
        sub.path("downtime").forEach(w -> notes.add(List.of(c.path("name").asText(),
            sub.path("state").asText().equals("downtime") ? "WARNING" : "OK", "downtime",
            "scheduled from " + w.path("from").asText() + " to " + w.path("to").asText())));
        c.path("credentials").forEach(k -> {
          if (k.path("status").asText().equals("ok")) {
            notes.add(List.of(c.path("name").asText(), "OK", "credential",
                k.path("message").asText()));
          }
        });
      });
      if (!notes.isEmpty()) {
        out.println();
        out.println("CONDITIONS");
        Table.print(out, List.of("CLUSTER", "SEVERITY", "SUBJECT", "MESSAGE"), notes);
      }
      var store = answer.path("store");
      if (!store.isMissingNode()) {
        var pool = store.path("pool");
        out.println();
        out.println("STORE  " + pool.path("url").asText() + "  "
            + (store.path("available").asBoolean() ? "available" : "UNAVAILABLE: "
                + store.path("last_error").asText()) + "  pool " + pool.path("active").asInt()
            + " active, " + pool.path("idle").asInt() + " idle of " + pool.path("max").asInt()
            + ", " + pool.path("waiting").asInt() + " waiting");
        var engines = new ArrayList<List<String>>();
        store.path("engines").forEach(e -> engines.add(List.of(e.path("id").asText()
            + (e.path("id").asText().equals(store.path("engine_id").asText()) ? " (this)" : ""),
            e.path("host").asText(), e.path("home").asText(), e.path("live_jobs").asText(),
            e.path("lease_left_millis").asLong() > 0 ? e.path("lease_left_millis").asLong() / 1000
                + "s" : "expired")));
        if (!engines.isEmpty()) {
          Table.print(out, List.of("ENGINE", "HOST", "HOME", "LIVE", "LEASE LEFT"), engines);
        }
      }
      out.flush();
      return Main.OK;
    }
  }

  // --- drain, undrain ----------------------------------------------------------------------

  @Command(name = "drain", mixinStandardHelpOptions = true,
      description = {"Stops new submissions to CLUSTER until 'jobyard undrain': its running "
          + "jobs are tracked to their end, queued jobs that list other clusters go to the next "
          + "of them, the others wait. Kept across engine restarts. Admins only.", "",
          ENGINE_HELP},
      footer = {"", EXIT_CODES, "", "Examples:", "  jobyard drain hpc --reason 'kernel update'",
          "  jobyard backends        # SUBMISSIONS shows drained"})
  static final class Drain extends ClusterVerb {
    @Option(names = "--reason", description = "why, shown in 'jobyard backends'")
    String reason;

    @Override
    public Integer call() {
      var body = new LinkedHashMap<String, Object>();
      if (reason != null) {
        body.put("reason", reason);
      }
      return report(connection.client().post("api/v1/clusters/" + Client.encode(cluster)
          + "/drain", body), "drained: no new submissions until 'jobyard undrain " + cluster
          + "'");
    }
  }

  /** A verb on one cluster, answered with the cluster's submissions state. */
  abstract static class ClusterVerb extends Verb {
    @Parameters(paramLabel = "CLUSTER", description = "a configured cluster")
    String cluster;

    Integer report(JsonNode answer, String line) {
      if (connection.json()) {
        printJson(answer);
      } else {
        out().println("cluster " + cluster + " " + line);
        out().flush();
      }
      return Main.OK;
    }
  }

  @Command(name = "undrain", mixinStandardHelpOptions = true,
      description = {"Lets CLUSTER take new submissions again after 'jobyard drain' (a "
          + "scheduled downtime window of the configuration still applies). Admins only.", "",
          ENGINE_HELP},
      footer = {"", EXIT_CODES, "", "Examples:", "  jobyard undrain hpc"})
  static final class Undrain extends ClusterVerb {
    @Override
    public Integer call() {
      var answer = connection.client().post("api/v1/clusters/" + Client.encode(cluster)
          + "/undrain", Map.of());
      return report(answer, answer.path("state").asText().equals("downtime")
          ? "undrained, but in scheduled downtime until its window ends"
          : "takes new submissions again");
    }
  }

  // --- reload ------------------------------------------------------------------------------

  @Command(name = "reload", mixinStandardHelpOptions = true,
      description = {"Makes the running engine read its configuration file again (as SIGHUP "
          + "does): clusters added, removed (a busy one only when drained: it goes once its "
          + "jobs have ended) and retuned (max_jobs, poll_interval, submit_rate, max_pending, "
          + "held_timeout, keep_sandbox, downtime), fair shares; no job stops. A file with an "
          + "error is refused whole and the configuration in force stays. Admins only.", "",
          ENGINE_HELP},
      footer = {"", EXIT_CODES, "", "Examples:", "  jobyard reload",
          "  kill -HUP <engine pid>   # the same, from a service manager"})
  static final class Reload extends Verb {
    @Override
    public Integer call() {
      var answer = connection.client().post("api/v1/reload", Map.of());
      if (connection.json()) {
        printJson(answer);
        return Main.OK;
      }
      var out = out();
      if (answer.path("applied").isEmpty()) {
        out.println("reloaded: nothing changed");
      }
      answer.path("applied").forEach(a -> out.println("reloaded: " + a.asText()));
      answer.path("at_next_start").forEach(a -> out.println("at the next start: " + a.asText()
          + " (changed, not applied to the running engine)"));
      out.flush();
      return Main.OK;
    }
  }

  /** Left-aligned columns, two spaces apart; the last column is not padded. */
  static final class Table {
    private Table() {}

    static void print(PrintWriter out, List<String> header, List<List<String>> rows) {
      var widths = new int[header.size()];
      for (int i = 0; i < header.size(); i++) {
        widths[i] = header.get(i).length();
      }
      for (var r : rows) {
        for (int i = 0; i < r.size(); i++) {
          var c = org.jobyard.engine.spec.Printable.escape(r.get(i));
          widths[i] = Math.max(widths[i], Math.min(c.length(), 60));
        }
      }
      line(out, header, widths);
      rows.forEach(r -> line(out, r, widths));
    }

    private static void line(PrintWriter out, List<String> cells, int[] widths) {
      var sb = new StringBuilder();
      for (int i = 0; i < cells.size(); i++) {
        var c = org.jobyard.engine.spec.Printable.escape(cells.get(i));
        if (i < cells.size() - 1) {
          if (c.length() > widths[i]) {
            c = c.substring(0, widths[i] - 1) + "~";
          }
          // padding by hand: String.format loads the locale and number formatting machinery
          sb.append(c).append(" ".repeat(widths[i] - c.length() + 2));
        } else {
          sb.append(c);
        }
      }
      out.println(sb.toString().stripTrailing());
    }
  }
}
