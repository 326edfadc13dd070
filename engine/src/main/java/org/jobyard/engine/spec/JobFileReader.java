package org.jobyard.engine.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jobyard.api.Durations;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobSpec.FileTransfer;
import org.jobyard.api.JobSpec.Step;
import org.jobyard.api.Resources;
import org.jobyard.api.ShellQuoting;
import org.jobyard.engine.dependency.JobGraph;
import org.jobyard.engine.retry.RetryRules;

/**
 * Reads the job format: one job (a mapping), a list of jobs, {@code {jobs: [...]}}, or a parameter
 * sweep {@code {sweep: {x: [1, 2], y: [a, b]}, job: {...${x}...${y}...}}} that expands to one job
 * per combination. YAML and JSON alike. Unknown fields are errors, so a typo never passes silently;
 * every problem of the file is reported at once and nothing is accepted unless all is valid.
 */
public final class JobFileReader {
  /** Above this a sweep is almost certainly a mistake. */
  public static final int MAX_JOBS_PER_FILE = 100_000;

  private static final Set<String> JOB_FIELDS = Set.of("name", "session", "executable",
      "arguments", "steps", "environment", "directory", "stdout", "stderr", "resources", "queue",
      "account", "inputs", "outputs", "clusters", "retries", "native", "after", "after_condition", "retry_on",
      "retry_elsewhere", "retry_delay", "retry_backoff", "success_exit_codes", "reservation",
      "stdin", "inherit_environment", "priority");
  private static final Set<String> RESOURCE_FIELDS =
      Set.of("cores", "memory", "walltime", "nodes", "gpus", "processes", "processes_per_node",
          "exclusive", "disk");
  /** Beyond any batch system's limit, and far from overflowing a long in bytes or seconds. */
  static final long MAX_MEMORY_MB = 1L << 40;
  static final Duration MAX_WALLTIME = Duration.ofDays(3650);
  private static final double MAX_BACKOFF = 10;
  private static final String NUL = ": contains a NUL character, which no program or file name "
      + "can hold";
  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
  /** A number (decimals allowed) and an optional unit: K/M/G/T, KiB..TiB, KB..TB, or B. */
  private static final Pattern SIZE =
      Pattern.compile("(\\d{1,18}(?:\\.\\d{1,9})?)\\s*([kmgt](?:i?b)?|b)?", Pattern.CASE_INSENSITIVE);
  private static final String MEMORY_HELP = "expected a size like 512M, 1.5G, 2GiB or 4GB "
      + "(K/M/G/T and KiB/MiB/GiB/TiB count in 1024s as Slurm does, KB/MB/GB/TB in 1000s; a "
      + "plain number is MiB)";
  private static final String WALLTIME_HELP = "expected a duration with a unit like 90s, 30m, "
      + "1h30m or 2d, or a Slurm --time clock: MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS";

  private JobFileReader() {}

  public static List<JobSpec> read(Path file) throws JobFileException {
    String text;
    try {
      if (Files.size(file) > DocumentReader.MAX_CHARS) {
        throw new JobFileException(List.of(file + ": " + Files.size(file) + " bytes; a job file "
            + "holds at most " + DocumentReader.MAX_CHARS + " (10 MiB): split it, or use a sweep"));
      }
      text = Files.readString(file);
    } catch (CharacterCodingException e) {
      throw new JobFileException(List.of(file + ": not UTF-8 text; save the job file as UTF-8"));
    } catch (IOException e) {
      throw new JobFileException(List.of(file + ": cannot read: " + e.getMessage()));
    }
    var json = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json");
    return parse(file.toString(), text, json);
  }

  /** Parses a document; {@code source} names it in messages (a file name, "request body"). */
  public static List<JobSpec> parse(String source, String text, boolean json)
      throws JobFileException {
    return fromTree(source, DocumentReader.read(source, text, json));
  }

  public static List<JobSpec> fromTree(String source, JsonNode root) throws JobFileException {
    var problems = new ArrayList<String>();
    var specs = new ArrayList<JobSpec>();
    if (root == null || root.isMissingNode() || root.isNull()) {
      throw new JobFileException(List.of(source + ": empty; expected a job, a list of jobs, "
          + "or a sweep"));
    }
    var jobs = new ArrayList<JsonNode>();
    if (root.isArray()) {
      addJobsOrSweeps(source, root, jobs, problems);
    } else if (root.isObject() && root.has("sweep")) {
      expandSweep(source, (ObjectNode) root, jobs, problems);
    } else if (root.isObject() && root.has("jobs") && !root.has("executable")) {
      if (!root.path("jobs").isArray()) {
        problems.add(source + ": field 'jobs': expected a list of jobs");
      } else {
        addJobsOrSweeps(source, root.path("jobs"), jobs, problems);
      }
      root.fieldNames().forEachRemaining(f -> {
        if (!f.equals("jobs")) {
          problems.add(source + ": unknown field '" + keyName(f) + "' beside 'jobs'");
        }
      });
    } else if (root.isObject()) {
      jobs.add(root);
    } else {
      problems.add(source + ": expected a job (mapping), a list of jobs, or a sweep; got "
          + root.getNodeType().toString().toLowerCase(Locale.ROOT));
    }
    if (jobs.isEmpty() && problems.isEmpty()) {
      problems.add(source + ": no jobs in the file");
    }
    if (jobs.size() > MAX_JOBS_PER_FILE) {
      problems.add(source + ": " + jobs.size() + " jobs; at most " + MAX_JOBS_PER_FILE
          + " per file");
      throw new JobFileException(problems);
    }
    for (int i = 0; i < jobs.size(); i++) {
      var where = new Where(source, jobs.size() == 1 && !root.isArray() && !root.has("sweep")
          ? null : i + 1, jobs.get(i).path("name").asText(null));
      var spec = job(jobs.get(i), where, problems);
      if (spec != null) {
        specs.add(spec);
      }
    }
    if (problems.isEmpty()) {
      JobGraph.check(source, specs, problems);
    }
    if (!problems.isEmpty()) {
      throw new JobFileException(problems);
    }
    return List.copyOf(specs);
  }

  /** The items of a list of jobs; a sweep among them adds its jobs (fan-out in one file). */
  private static void addJobsOrSweeps(String source, JsonNode list, List<JsonNode> out,
      List<String> problems) {
    for (var item : list) {
      if (item.isObject() && item.has("sweep")) {
        expandSweep(source, (ObjectNode) item, out, problems);
      } else {
        out.add(item);
      }
    }
  }

  private record Where(String source, Integer index, String name) {
    String at(String field) {
      var sb = new StringBuilder(source).append(": ");
      if (index != null) {
        sb.append("job ").append(index);
        if (name != null) {
          sb.append(" ('").append(Printable.escape(name)).append("')");
        }
        sb.append(", ");
      } else if (name != null) {
        sb.append("job '").append(Printable.escape(name)).append("', ");
      }
      return sb.append("field '").append(field).append("'").toString();
    }
  }

  private static void expandSweep(String source, ObjectNode root, List<JsonNode> out,
      List<String> problems) {
    root.fieldNames().forEachRemaining(f -> {
      if (!f.equals("sweep") && !f.equals("job")) {
        problems.add(source + ": unknown field '" + keyName(f) + "' in a sweep (expected 'sweep' and "
            + "'job')");
      }
    });
    var sweep = root.path("sweep");
    var template = root.path("job");
    if (!sweep.isObject() || sweep.isEmpty()) {
      problems.add(source + ": field 'sweep': expected a mapping of parameter names to lists of "
          + "values, e.g. {n: [1, 2, 3]}");
      return;
    }
    if (!template.isObject()) {
      problems.add(source + ": field 'job': a sweep needs a job template with ${parameter} "
          + "placeholders");
      return;
    }
    var names = new ArrayList<String>();
    var values = new ArrayList<List<String>>();
    long combinations = 1;
    var it = sweep.fields();
    while (it.hasNext()) {
      var e = it.next();
      if (!PLACEHOLDER.matcher("${" + e.getKey() + "}").matches()) {
        problems.add(source + ": field 'sweep." + e.getKey() + "': a parameter name may hold "
            + "letters, digits and '_'");
        return;
      }
      var list = new ArrayList<String>();
      var field = source + ": field 'sweep." + e.getKey() + "'";
      if (e.getValue().isArray()) {
        for (var v : e.getValue()) {
          if (v.isContainerNode() || v.isNull()) {
            problems.add(field + ": expected plain values (text or numbers), got " + v);
            return;
          }
          list.add(v.asText());
        }
      } else if (e.getValue().isObject()) {
        if (!range(field, e.getValue(), list, problems)) {
          return;
        }
      } else {
        problems.add(source + ": field 'sweep." + e.getKey() + "': expected a list of values or "
            + "{from: 1, to: 10}");
        return;
      }
      if (list.isEmpty()) {
        problems.add(source + ": field 'sweep." + e.getKey() + "': no values");
        return;
      }
      names.add(e.getKey());
      values.add(list);
      combinations *= list.size();
      if (combinations > MAX_JOBS_PER_FILE) {
        problems.add(source + ": the sweep makes more than " + MAX_JOBS_PER_FILE + " jobs");
        return;
      }
    }
    var templateText = template.toString();
    var usesAll = names.stream().allMatch(n -> templateText.contains("${" + n + "}"));
    if (!usesAll) {
      problems.add(source + ": field 'job': every sweep parameter must appear as ${name} in the "
          + "job template; unused: " + names.stream()
              .filter(n -> !templateText.contains("${" + n + "}")).toList());
      return;
    }
    var index = new int[names.size()];
    for (long c = 0; c < combinations; c++) {
      var binding = new LinkedHashMap<String, String>();
      for (int k = 0; k < names.size(); k++) {
        binding.put(names.get(k), values.get(k).get(index[k]));
      }
      var job = (ObjectNode) substitute(template, binding);
      var name = job.path("name").asText("job");
      if (name.equals(template.path("name").asText("job"))) {
        job.put("name", name + "-" + (c + 1));
      }
      out.add(job);
      for (int k = names.size() - 1; k >= 0; k--) {
        if (++index[k] < values.get(k).size()) {
          break;
        }
        index[k] = 0;
      }
    }
  }

  /** {@code {from: A, to: B, step: S}}: whole numbers, A <= B, S > 0, not too many values. */
  private static boolean range(String field, JsonNode r, List<String> list,
      List<String> problems) {
    int before = problems.size();
    r.fieldNames().forEachRemaining(f -> {
      if (!Set.of("from", "to", "step").contains(f)) {
        problems.add(field + ": unknown field '" + keyName(f) + "' in a range; a range has 'from', 'to' "
            + "and 'step'");
      }
    });
    var bounds = new long[3];
    var names = List.of("from", "to", "step");
    for (int i = 0; i < 3; i++) {
      var v = r.path(names.get(i));
      if (v.isMissingNode() && i == 2) {
        bounds[i] = 1;
      } else if (!v.isIntegralNumber() || !v.canConvertToLong()) {
        problems.add(field.substring(0, field.length() - 1) + "." + names.get(i) + "': expected "
            + "a whole number" + (v.isMissingNode() ? "" : ", got '" + v.asText() + "'"));
      } else {
        bounds[i] = v.asLong();
      }
    }
    if (problems.size() > before) {
      return false;
    }
    long from = bounds[0];
    long to = bounds[1];
    long step = bounds[2];
    // exact arithmetic: a range near Long.MAX_VALUE must not wrap around
    var count = step <= 0 || to < from ? java.math.BigInteger.ZERO
        : java.math.BigInteger.valueOf(to).subtract(java.math.BigInteger.valueOf(from))
            .divide(java.math.BigInteger.valueOf(step)).add(java.math.BigInteger.ONE);
    if (count.signum() == 0 || count.compareTo(java.math.BigInteger.valueOf(MAX_JOBS_PER_FILE)) > 0) {
      problems.add(field + ": expected {from: A, to: B, step: S} with A <= B, S > 0 and at most "
          + MAX_JOBS_PER_FILE + " values");
      return false;
    }
    for (long i = 0, n = count.longValueExact(); i < n; i++) {
      list.add(Long.toString(from + i * step));
    }
    return true;
  }

  private static JsonNode substitute(JsonNode node, Map<String, String> binding) {
    if (node.isTextual()) {
      Matcher m = PLACEHOLDER.matcher(node.asText());
      var sb = new StringBuilder();
      while (m.find()) {
        var v = binding.get(m.group(1));
        m.appendReplacement(sb, Matcher.quoteReplacement(v == null ? m.group() : v));
      }
      m.appendTail(sb);
      return TextNode.valueOf(sb.toString());
    }
    var copy = node.deepCopy();
    if (copy.isObject()) {
      var o = (ObjectNode) copy;
      var names = new ArrayList<String>();
      o.fieldNames().forEachRemaining(names::add);
      for (var f : names) {
        o.set(f, substitute(o.get(f), binding));
      }
    } else if (copy.isArray()) {
      var a = (com.fasterxml.jackson.databind.node.ArrayNode) copy;
      for (int i = 0; i < a.size(); i++) {
        a.set(i, substitute(a.get(i), binding));
      }
    }
    return copy;
  }

  private static JobSpec job(JsonNode n, Where w, List<String> problems) {
    int before = problems.size();
    if (!n.isObject()) {
      problems.add(w.at("(job)").replace("field '(job)'", "expected a mapping"));
      return null;
    }
    n.fieldNames().forEachRemaining(f -> {
      if (!JOB_FIELDS.contains(f)) {
        problems.add(w.at(keyName(f)) + ": unknown field; known fields: " + new java.util.TreeSet<>(JOB_FIELDS));
      }
    });
    var name = string(n, "name", w, problems);
    if (name == null) {
      problems.add(w.at("name") + ": required");
    } else if (!printable(name)) {
      problems.add(w.at("name") + ": expected 1 to 200 printable characters");
    }
    var steps = new ArrayList<Step>();
    var hasExec = n.has("executable");
    var hasSteps = n.has("steps");
    if (hasExec && hasSteps) {
      problems.add(w.at("steps") + ": give either 'executable' (with 'arguments') or 'steps', "
          + "not both");
    } else if (hasExec) {
      var exe = string(n, "executable", w, problems);
      var args = stringList(n, "arguments", w, problems);
      if (exe != null && exe.isBlank()) {
        problems.add(w.at("executable") + ": empty");
      } else if (exe != null) {
        steps.add(new Step(exe, args));
      }
    } else if (hasSteps) {
      if (n.has("arguments")) {
        problems.add(w.at("arguments") + ": belongs inside each step when 'steps' is used");
      }
      var sn = n.path("steps");
      if (!sn.isArray() || sn.isEmpty()) {
        problems.add(w.at("steps") + ": expected a non-empty list of {executable, arguments}");
      } else {
        for (int i = 0; i < sn.size(); i++) {
          var s = sn.get(i);
          var field = "steps[" + i + "]";
          if (!s.isObject()) {
            problems.add(w.at(field) + ": expected {executable: ..., arguments: [...]}");
            continue;
          }
          s.fieldNames().forEachRemaining(f -> {
            if (!f.equals("executable") && !f.equals("arguments")) {
              problems.add(w.at(field + "." + f) + ": unknown field; a step has 'executable' "
                  + "and 'arguments'");
            }
          });
          var exe = s.path("executable");
          if (!exe.isTextual() || exe.asText().isBlank()) {
            problems.add(w.at(field + ".executable") + ": required, a program name or path");
            continue;
          }
          if (exe.asText().indexOf('\0') >= 0) {
            problems.add(w.at(field + ".executable") + NUL);
            continue;
          }
          steps.add(new Step(exe.asText(),
              stringList(s, "arguments", w, problems, field + ".arguments")));
        }
      }
    } else {
      problems.add(w.at("executable") + ": required (or 'steps')");
    }
    var env = new LinkedHashMap<String, String>();
    var en = n.path("environment");
    if (!en.isMissingNode() && !en.isNull()) {
      if (!en.isObject()) {
        problems.add(w.at("environment") + ": expected a mapping of NAME: value");
      } else {
        en.fields().forEachRemaining(e -> {
          if (!ShellQuoting.isValidVariableName(e.getKey())) {
            problems.add(w.at("environment." + e.getKey()) + ": not a valid variable name "
                + "(letters, digits, '_', not starting with a digit)");
          } else if (e.getValue().isContainerNode()) {
            problems.add(w.at("environment." + e.getKey()) + ": expected a plain value");
          } else if (e.getValue().asText().indexOf('\0') >= 0) {
            problems.add(w.at("environment." + e.getKey()) + ": contains a NUL character");
          } else {
            env.put(e.getKey(), e.getValue().isNull() ? "" : e.getValue().asText());
          }
        });
      }
    }
    var resources = resources(n.path("resources"), w, problems);
    var retries = 0;
    var rn = n.path("retries");
    if (!rn.isMissingNode() && !rn.isNull()) {
      if (!rn.isIntegralNumber() || !rn.canConvertToInt() || rn.asInt() < 0 || rn.asInt() > 100) {
        problems.add(w.at("retries") + ": expected a whole number from 0 to 100, got '"
            + rn.asText() + "'");
      } else {
        retries = rn.asInt();
      }
    }
    var priority = 0;
    var pn = n.path("priority");
    if (!pn.isMissingNode() && !pn.isNull()) {
      if (!pn.isIntegralNumber() || !pn.canConvertToInt() || pn.asInt() < JobSpec.MIN_PRIORITY
          || pn.asInt() > JobSpec.MAX_PRIORITY) {
        problems.add(w.at("priority") + ": expected a whole number from " + JobSpec.MIN_PRIORITY
            + " to " + JobSpec.MAX_PRIORITY + " (higher runs first among your own jobs), got '"
            + pn.asText() + "'");
      } else {
        priority = pn.asInt();
      }
    }
    var clusters = stringList(n, "clusters", w, problems);
    var inputs = new ArrayList<>(transfers(n, "inputs", w, problems));
    var stdin = stdin(n, inputs, w, problems);
    var inherit = inheritEnvironment(n, w, problems);
    var outputs = transfers(n, "outputs", w, problems);
    var nativeOptions = new LinkedHashMap<String, Map<String, String>>();
    var nn = n.path("native");
    if (!nn.isMissingNode() && !nn.isNull()) {
      if (!nn.isObject()) {
        problems.add(w.at("native") + ": expected {backend: {option: value}}");
      } else {
        nn.fields().forEachRemaining(e -> {
          if (!e.getValue().isObject()) {
            problems.add(w.at("native." + e.getKey()) + ": expected a mapping of option: value");
            return;
          }
          var opts = new LinkedHashMap<String, String>();
          e.getValue().fields().forEachRemaining(o -> {
            var at = w.at("native." + e.getKey() + "." + o.getKey());
            if (o.getValue().isContainerNode()) {
              problems.add(at + ": expected a plain value");
            } else if (o.getValue().asText().indexOf('\0') >= 0) {
              problems.add(at + NUL);
            } else {
              opts.put(o.getKey(), o.getValue().asText());
            }
          });
          nativeOptions.put(e.getKey(), opts);
        });
      }
    }
    var after = dependencies(n, w, problems);
    var retryRule = retryRule(n, w, problems);
    var successCodes = exitCodes(n.path("success_exit_codes"), "success_exit_codes", w, problems,
        false);
    var session = string(n, "session", w, problems);
    if (session != null && !printable(session)) {
      problems.add(w.at("session") + ": expected 1 to 200 printable characters (no control "
          + "characters such as newlines or escape sequences)");
    }
    var directory = string(n, "directory", w, problems);
    var stdout = string(n, "stdout", w, problems);
    var stderr = string(n, "stderr", w, problems);
    var queue = string(n, "queue", w, problems);
    var account = string(n, "account", w, problems);
    var placement = placement(n, w, problems);
    if (problems.size() > before) {
      return null;
    }
    return new JobSpec(name, session, null, steps, env, directory, stdout, stderr, resources,
        queue, account, inputs, outputs, clusters, retries, nativeOptions, after, retryRule,
        successCodes, placement, stdin, inherit, priority);
  }

  /**
   * {@code stdin: data/in.txt}: a file on the submitting machine, staged as an input into the
   * job's working directory under its own name and read as the job's standard input. Returns
   * that name; adds the input unless the same file is already one.
   */
  private static String stdin(JsonNode n, List<FileTransfer> inputs, Where w,
      List<String> problems) {
    var v = n.path("stdin");
    if (v.isMissingNode() || v.isNull()) {
      return null;
    }
    var source = path(v, "stdin", w, problems);
    if (source == null) {
      return null;
    }
    var name = fileName(source);
    if (name == null) {
      problems.add(w.at("stdin") + ": '" + source + "' names no file; give a file's path");
      return null;
    }
    for (int i = 0; i < inputs.size(); i++) {
      var input = inputs.get(i);
      if (input.destination().equals(name)) {
        if (!input.source().equals(source)) {
          problems.add(w.at("stdin") + ": '" + source + "' would be staged as '" + name
              + "', which inputs[" + i + "] ('" + input.source() + "') is staged as too; rename "
              + "one of the files");
        }
        return name;
      }
    }
    inputs.add(new FileTransfer(source, name));
    return name;
  }

  /**
   * {@code inherit_environment: true | false | [NAME, PREFIX_*]}: which variables of the
   * submitting environment the job sees; false (none) if absent.
   */
  private static List<String> inheritEnvironment(JsonNode n, Where w, List<String> problems) {
    var v = n.path("inherit_environment");
    if (v.isMissingNode() || v.isNull()) {
      return List.of();
    }
    if (v.isBoolean()) {
      return v.asBoolean() ? JobSpec.INHERIT_ALL : List.of();
    }
    var help = "expected true, false or a list of variable names (a '*' matches any "
        + "characters), e.g. [PYTHONPATH, 'CONDA_*']";
    if (!v.isArray() || v.isEmpty()) {
      problems.add(w.at("inherit_environment") + ": " + help + ", got '" + v + "'");
      return List.of();
    }
    var out = new ArrayList<String>();
    for (int i = 0; i < v.size(); i++) {
      var e = v.get(i);
      if (!e.isTextual() || !JobSpec.isVariablePattern(e.asText())) {
        problems.add(w.at("inherit_environment[" + i + "]") + ": " + help + ", got '"
            + (e.isTextual() ? Printable.escape(e.asText()) : e.toString()) + "'");
      } else {
        out.add(e.asText());
      }
    }
    return out.contains("*") ? JobSpec.INHERIT_ALL : out;
  }

  /**
   * {@code resources.processes}, {@code resources.processes_per_node}, {@code
   * resources.exclusive}, {@code resources.disk} (a size, as memory) and {@code reservation}.
   */
  private static JobSpec.Placement placement(JsonNode n, Where w, List<String> problems) {
    var r = n.path("resources");
    var reservation = string(n, "reservation", w, problems);
    if (reservation != null && (reservation.isBlank() || !printable(reservation))) {
      problems.add(w.at("reservation") + ": expected the name of a reservation, got '"
          + reservation + "'");
    }
    if (!r.isObject()) {
      return reservation == null ? JobSpec.Placement.NONE
          : new JobSpec.Placement(0, 0, false, reservation, 0);
    }
    int processes = count(r, "processes", w, problems);
    int perNode = count(r, "processes_per_node", w, problems);
    var ex = r.path("exclusive");
    if (!ex.isMissingNode() && !ex.isNull() && !ex.isBoolean()) {
      problems.add(w.at("resources.exclusive") + ": expected true or false, got '" + ex.asText()
          + "'");
    }
    long disk = 0;
    var d = r.path("disk");
    if (!d.isMissingNode() && !d.isNull()) {
      var mb = d.isContainerNode() ? -1 : memoryMb(d.asText());
      if (mb < 0) {
        problems.add(w.at("resources.disk") + ": " + MEMORY_HELP + ", got '" + d.asText() + "'");
      } else {
        disk = mb;
      }
    }
    return new JobSpec.Placement(processes, perNode, ex.asBoolean(false), reservation, disk);
  }

  /** {@code retry_on: [lost, 137]} and {@code retry_elsewhere: true}; null: retry any failure. */
  private static JobSpec.RetryRule retryRule(JsonNode n, Where w, List<String> problems) {
    var on = n.path("retry_on");
    var elsewhere = n.path("retry_elsewhere");
    if (!elsewhere.isMissingNode() && !elsewhere.isNull() && !elsewhere.isBoolean()) {
      problems.add(w.at("retry_elsewhere") + ": expected true or false, got '"
          + elsewhere.asText() + "'");
    }
    var again = elsewhere.asBoolean(false);
    var delay = retryDelay(n, w, problems);
    var backoff = retryBackoff(n, w, problems);
    if (on.isMissingNode() || on.isNull()) {
      return again || !delay.isZero() || backoff != 1
          ? new JobSpec.RetryRule(List.of(), false, again, delay, backoff) : null; // any failure
    }
    var lost = false;
    if (on.isArray()) {
      for (var e : on) {
        lost |= e.isTextual() && e.asText().equals("lost");
      }
    }
    var codes = exitCodes(on, "retry_on", w, problems, true);
    return new JobSpec.RetryRule(codes, lost, again, delay, backoff);
  }

  /** {@code retry_delay: 30s}: how long after a failed attempt its retry goes; zero if absent. */
  private static Duration retryDelay(JsonNode n, Where w, List<String> problems) {
    var v = n.path("retry_delay");
    if (v.isMissingNode() || v.isNull()) {
      return Duration.ZERO;
    }
    var d = v.isContainerNode() || Durations.isPlainNumber(v.asText()) ? Optional.<Duration>empty()
        : walltime(v.asText()).filter(x -> x.compareTo(RetryRules.MAX_DELAY) <= 0);
    if (d.isEmpty()) {
      problems.add(w.at("retry_delay") + ": expected a duration with a unit, e.g. 30s, 5m or "
          + "1h, at most " + RetryRules.MAX_DELAY.toHours() + "h, got '" + v.asText() + "'");
      return Duration.ZERO;
    }
    return d.get();
  }

  /** {@code retry_backoff: 2}: each retry waits that many times longer than the one before. */
  private static double retryBackoff(JsonNode n, Where w, List<String> problems) {
    var v = n.path("retry_backoff");
    if (v.isMissingNode() || v.isNull()) {
      return 1;
    }
    if (!v.isNumber() || !(v.asDouble() >= 1 && v.asDouble() <= MAX_BACKOFF)) {
      problems.add(w.at("retry_backoff") + ": expected a number from 1 (the same delay every "
          + "time) to " + (int) MAX_BACKOFF + ", e.g. 2 to double it each retry, got '"
          + v.asText() + "'");
      return 1;
    }
    return v.asDouble();
  }

  /** A list of exit codes 0 to 255 ({@code lost} allowed too where {@code lostAllowed}). */
  private static List<Integer> exitCodes(JsonNode v, String field, Where w,
      List<String> problems, boolean lostAllowed) {
    if (v.isMissingNode() || v.isNull()) {
      return List.of();
    }
    var example = lostAllowed ? "[lost, 137, 143]" : "[0, 3]";
    if (!v.isArray() || v.isEmpty()) {
      problems.add(w.at(field) + ": expected a non-empty list of exit codes"
          + (lostAllowed ? " or 'lost'" : "") + ", e.g. " + example);
      return List.of();
    }
    var out = new ArrayList<Integer>();
    for (int i = 0; i < v.size(); i++) {
      var e = v.get(i);
      if (lostAllowed && e.isTextual() && e.asText().equals("lost")) {
        continue;
      }
      if (!e.isIntegralNumber() || !e.canConvertToInt() || e.asInt() < 0 || e.asInt() > 255) {
        problems.add(w.at(field + "[" + i + "]") + ": expected an exit code from 0 to 255"
            + (lostAllowed ? " or 'lost' (no exit code: lost, evicted, node failure)" : "")
            + ", got '" + e.asText() + "'");
      } else {
        out.add(e.asInt());
      }
    }
    return out;
  }

  /**
   * {@code after: [prep, {job: 'fit-*', condition: any}]}: names (a trailing or inner {@code *}
   * matches any characters) or ids of earlier jobs; {@code after_condition} is the default
   * condition of the job's edges (success unless given).
   */
  private static List<JobSpec.Dependency> dependencies(JsonNode n, Where w,
      List<String> problems) {
    var fallback = JobSpec.Condition.SUCCESS;
    if (n.has("after_condition") && !n.get("after_condition").isNull()) {
      fallback = condition(n.get("after_condition"), w.at("after_condition"), problems);
    }
    var v = n.path("after");
    if (v.isMissingNode() || v.isNull()) {
      if (n.has("after_condition")) {
        problems.add(w.at("after_condition") + ": given without 'after'; name the jobs to wait "
            + "for in 'after'");
      }
      return List.of();
    }
    if (!v.isArray()) {
      problems.add(w.at("after") + ": expected a list of job names or ids, e.g. [prep] or "
          + "[{job: prep, condition: any}]");
      return List.of();
    }
    var out = new ArrayList<JobSpec.Dependency>();
    for (int i = 0; i < v.size(); i++) {
      var e = v.get(i);
      var at = w.at("after[" + i + "]");
      if (e.isTextual() || e.isNumber()) {
        if (e.asText().isBlank() || e.asText().indexOf('\0') >= 0) {
          problems.add(at + ": expected a job's name or id");
        } else {
          out.add(new JobSpec.Dependency(e.asText(), fallback));
        }
      } else if (e.isObject()) {
        var edge = "after[" + i + "].";
        e.fieldNames().forEachRemaining(f -> {
          if (!f.equals("job") && !f.equals("condition")) {
            problems.add(w.at(edge + keyName(f)) + ": unknown field; an edge has 'job' and "
                + "'condition'");
          }
        });
        var job = e.path("job");
        if (!job.isTextual() || job.asText().isBlank() || job.asText().indexOf('\0') >= 0) {
          problems.add(w.at("after[" + i + "].job") + ": required, a job's name or id");
          continue;
        }
        var c = e.has("condition") ? condition(e.get("condition"),
            w.at("after[" + i + "].condition"), problems) : fallback;
        out.add(new JobSpec.Dependency(job.asText(), c));
      } else {
        problems.add(at + ": expected a job's name or id, or {job: name, condition: any}");
      }
    }
    return out;
  }

  private static JobSpec.Condition condition(JsonNode v, String at, List<String> problems) {
    var text = v.isTextual() ? v.asText().trim().toLowerCase(Locale.ROOT) : "";
    return switch (text) {
      case "success", "ok", "afterok" -> JobSpec.Condition.SUCCESS;
      case "any", "afterany" -> JobSpec.Condition.ANY;
      case "failure", "notok", "afternotok" -> JobSpec.Condition.FAILURE;
      default -> {
        problems.add(at + ": expected success, any or failure, got '" + v.asText() + "'");
        yield JobSpec.Condition.SUCCESS;
      }
    };
  }

  private static Resources resources(JsonNode r, Where w, List<String> problems) {
    if (r.isMissingNode() || r.isNull()) {
      return Resources.NONE;
    }
    if (!r.isObject()) {
      problems.add(w.at("resources") + ": expected {cores, memory, walltime, nodes, gpus}");
      return Resources.NONE;
    }
    r.fieldNames().forEachRemaining(f -> {
      if (!RESOURCE_FIELDS.contains(f)) {
        problems.add(w.at("resources." + f) + ": unknown field; known: "
            + new java.util.TreeSet<>(RESOURCE_FIELDS));
      }
    });
    int cores = count(r, "cores", w, problems);
    int nodes = count(r, "nodes", w, problems);
    int gpus = count(r, "gpus", w, problems);
    long memory = 0;
    var m = r.path("memory");
    if (!m.isMissingNode() && !m.isNull()) {
      var mb = m.isContainerNode() ? -1 : memoryMb(m.asText());
      if (mb < 0) {
        problems.add(w.at("resources.memory") + ": " + MEMORY_HELP + ", got '" + m.asText()
            + "'");
      } else {
        memory = mb;
      }
    }
    Duration walltime = null;
    var wt = r.path("walltime");
    if (!wt.isMissingNode() && !wt.isNull()) {
      var d = wt.isContainerNode() ? Optional.<Duration>empty() : walltime(wt.asText());
      if (!wt.isContainerNode() && Durations.isPlainNumber(wt.asText())) {
        // seconds to Jobyard's settings, minutes to Slurm: too easy to get wrong by 60 times
        problems.add(w.at("resources.walltime") + ": '" + wt.asText().trim() + "' has no unit; "
            + "add one, e.g. " + wt.asText().trim() + "m for minutes (as Slurm reads it) or "
            + wt.asText().trim() + "s for seconds");
      } else if (d.isEmpty() || d.get().isZero()) {
        problems.add(w.at("resources.walltime") + ": " + WALLTIME_HELP + "; at most "
            + MAX_WALLTIME.toDays() + "d, got '" + wt.asText() + "'");
      } else {
        walltime = d.get();
      }
    }
    return new Resources(cores, memory, walltime, nodes, gpus);
  }

  /** A duration of at most {@link #MAX_WALLTIME}; empty if bad or beyond it. */
  private static Optional<Duration> walltime(String text) {
    try {
      return Durations.parse(text).filter(d -> d.compareTo(MAX_WALLTIME) <= 0);
    } catch (ArithmeticException | NumberFormatException e) {
      return Optional.empty(); // more seconds than a long holds
    }
  }

  /**
   * Whole MiB (rounded up, at least 1) from {@code 512M}, {@code 1.5G}, {@code 2GiB}, {@code 4GB}
   * or {@code 1024} (a plain number is MiB, as Slurm's {@code --mem}); -1 if bad, zero or above
   * {@link #MAX_MEMORY_MB}.
   */
  static long memoryMb(String text) {
    var m = SIZE.matcher(text.trim());
    if (!m.matches()) {
      return -1;
    }
    var unit = m.group(2) == null ? "m" : m.group(2).toLowerCase(Locale.ROOT);
    // KB, MB... are the SI units; K, M, KiB, MiB... the binary ones batch systems count in
    var decimal = unit.length() == 2 && unit.endsWith("b");
    var base = java.math.BigDecimal.valueOf(decimal ? 1000 : 1024);
    int power = switch (unit.charAt(0)) {
      case 'b' -> 0;
      case 'k' -> 1;
      case 'm' -> 2;
      case 'g' -> 3;
      default -> 4;
    };
    var bytes = new java.math.BigDecimal(m.group(1)).multiply(base.pow(power));
    var mib = bytes.divide(java.math.BigDecimal.valueOf(1024L * 1024), 0,
        java.math.RoundingMode.CEILING);
    if (bytes.signum() == 0 || mib.compareTo(java.math.BigDecimal.valueOf(MAX_MEMORY_MB)) > 0) {
      return -1;
    }
    return mib.longValueExact();
  }

  private static boolean printable(String text) {
    return !text.isBlank() && text.length() <= 200
        && text.chars().noneMatch(Character::isISOControl);
  }

  private static int count(JsonNode r, String field, Where w, List<String> problems) {
    var v = r.path(field);
    if (v.isMissingNode() || v.isNull()) {
      return 0;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0 || v.asInt() > 1_000_000) {
      problems.add(w.at("resources." + field) + ": expected a whole number >= 0, got '"
          + v.asText() + "'");
      return 0;
    }
    return v.asInt();
  }

  private static String string(JsonNode n, String field, Where w, List<String> problems) {
    var v = n.path(field);
    if (v.isMissingNode() || v.isNull()) {
      return null;
    }
    if (v.isContainerNode()) {
      problems.add(w.at(field) + ": expected text, got a " + (v.isArray() ? "list" : "mapping"));
      return null;
    }
    if (v.asText().indexOf('\0') >= 0) {
      problems.add(w.at(field) + NUL);
      return null;
    }
    return v.asText();
  }

  private static List<String> stringList(JsonNode n, String field, Where w,
      List<String> problems) {
    return stringList(n, field, w, problems, field);
  }

  private static List<String> stringList(JsonNode n, String field, Where w,
      List<String> problems, String label) {
    var v = n.path(field);
    if (v.isMissingNode() || v.isNull()) {
      return List.of();
    }
    if (!v.isArray()) {
      problems.add(w.at(label) + ": expected a list, e.g. [a, b]; a single string is not split "
          + "into words");
      return List.of();
    }
    var out = new ArrayList<String>();
    for (int i = 0; i < v.size(); i++) {
      var e = v.get(i);
      if (e.isContainerNode() || e.isNull()) {
        problems.add(w.at(label + "[" + i + "]") + ": expected text or a number");
      } else if (e.asText().indexOf('\0') >= 0) {
        problems.add(w.at(label + "[" + i + "]") + NUL);
      } else {
        out.add(e.asText());
      }
    }
    return out;
  }

  private static List<FileTransfer> transfers(JsonNode n, String field, Where w,
      List<String> problems) {
    var v = n.path(field);
    if (v.isMissingNode() || v.isNull()) {
      return List.of();
    }
    if (!v.isArray()) {
      problems.add(w.at(field) + ": expected a list of {source, destination} or file names");
      return List.of();
    }
    var out = new ArrayList<FileTransfer>();
    for (int i = 0; i < v.size(); i++) {
      var e = v.get(i);
      var item = field + "[" + i + "]";
      var at = item;
      JsonNode source;
      JsonNode destination = null;
      if (e.isTextual()) {
        source = e;
      } else if (e.isObject()) {
        e.fieldNames().forEachRemaining(f -> {
          if (!f.equals("source") && !f.equals("destination")) {
            problems.add(w.at(item + "." + f) + ": unknown field; a file has 'source' and "
                + "'destination'");
          }
        });
        source = e.path("source");
        destination = e.get("destination");
        at = at + ".source";
      } else {
        problems.add(w.at(at) + ": expected a file name or {source, destination}");
        continue;
      }
      var src = path(source, at, w, problems);
      if (src == null) {
        continue;
      }
      String dst;
      if (destination == null || destination.isNull()) {
        dst = fileName(src);
        if (dst == null) {
          problems.add(w.at(at) + ": '" + src + "' names no file; give a file's path, or a "
              + "'destination'");
          continue;
        }
      } else {
        dst = path(destination, field + "[" + i + "].destination", w, problems);
        if (dst == null) {
          continue;
        }
      }
      if (field.equals("inputs") && (dst.startsWith("/")
          || List.of(dst.split("/")).contains(".."))) {
        problems.add(w.at(field + "[" + i + "].destination") + ": '" + dst + "' is outside the "
            + "job's folder; give a relative path without '..'");
        continue;
      }
      out.add(new FileTransfer(src, dst));
    }
    return out;
  }

  /** A path as text: not empty, no NUL, not a folder ("/" or ending in "/"). */
  private static String path(JsonNode v, String field, Where w, List<String> problems) {
    if (v.isMissingNode() || v.isNull() || v.isContainerNode() || v.asText().isBlank()) {
      problems.add(w.at(field) + ": required, a file's path");
      return null;
    }
    var text = v.asText();
    if (text.indexOf('\0') >= 0) {
      problems.add(w.at(field) + NUL);
      return null;
    }
    if (text.endsWith("/")) {
      problems.add(w.at(field) + ": '" + text + "' is a folder; give a file's path");
      return null;
    }
    return text;
  }

  private static String fileName(String path) {
    var slash = path.lastIndexOf('/');
    var name = path.substring(slash + 1);
    return name.isEmpty() || name.equals(".") || name.equals("..") ? null : name;
  }

  /** A key as an error message names it: an empty key ({@code "": x}) is named as such. */
  private static String keyName(String key) {
    return key.isEmpty() ? "<empty key>" : key;
  }
}
