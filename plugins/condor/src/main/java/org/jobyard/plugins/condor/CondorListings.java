package org.jobyard.plugins.condor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Pure parsers of what HTCondor's tools print, tested against recorded output of a real pool
 * ({@code src/test/resources/condor-23.9}).
 */
final class CondorListings {
  private static final Pattern TERSE = Pattern.compile("(\\d+)\\.(\\d+) - (\\d+)\\.(\\d+)");
  private static final Pattern GROUP = Pattern.compile("@@jobyard group (\\d+) (\\d+)");

  /** The attributes a poll or lookup asks for. */
  static final List<String> ATTRIBUTES = List.of("ClusterId", "ProcId", "JobStatus",
      SubmitDescription.ID_ATTRIBUTE, "ExitCode", "ExitBySignal", "ExitSignal", "HoldReason",
      "HoldReasonCode", "HoldReasonSubCode", "RemoveReason", "LastHoldReason",
      "LastHoldReasonCode");

  private CondorListings() {}

  /** One job's ad, reduced to what the backend reads; absent attributes are null. */
  record Ad(String id, String tag, int status, Integer exitCode, Boolean exitBySignal,
      Integer exitSignal, String holdReason, Integer holdReasonCode, Integer holdReasonSubCode,
      String removeReason, String lastHoldReason, Integer lastHoldReasonCode) {}

  /** What one {@code condor_submit} of the submit script printed. */
  record SubmitRun(int exitCode, List<String> ids, String output) {}

  /**
   * The ids {@code condor_submit -terse} printed ({@code C.P - C.Q}, one line per cluster),
   * expanded in order; warnings between them are skipped.
   */
  static List<String> parseTerse(String stdout) {
    var ids = new ArrayList<String>();
    for (var line : stdout.lines().toList()) {
      var m = TERSE.matcher(line.strip());
      if (m.matches() && m.group(1).equals(m.group(3))) {
        int from = Integer.parseInt(m.group(2));
        int to = Integer.parseInt(m.group(4));
        for (int p = from; p <= to; p++) {
          ids.add(m.group(1) + "." + p);
        }
      }
    }
    return ids;
  }

  /**
   * The submit script's report: for each group that ran, {@code @@jobyard group I RC} followed
   * by condor_submit's output, every line prefixed with {@code |}. Groups the script did not
   * reach are absent.
   */
  static Map<Integer, SubmitRun> parseSubmitScript(String stdout) {
    var runs = new LinkedHashMap<Integer, SubmitRun>();
    Integer current = null;
    int rc = 0;
    var text = new StringBuilder();
    for (var line : stdout.lines().toList()) {
      var m = GROUP.matcher(line);
      if (m.matches()) {
        if (current != null) {
          runs.put(current, run(rc, text.toString()));
        }
        current = Integer.parseInt(m.group(1));
        rc = Integer.parseInt(m.group(2));
        text.setLength(0);
      } else if (current != null && line.startsWith("|")) {
        text.append(line, 1, line.length()).append('\n');
      }
    }
    if (current != null) {
      runs.put(current, run(rc, text.toString()));
    }
    return runs;
  }

  private static SubmitRun run(int rc, String output) {
    return new SubmitRun(rc, rc == 0 ? parseTerse(output) : List.of(), output);
  }

  /** How a failed condor_submit is to be read. */
  enum SubmitFailure {
    /** The schedd did not answer: nothing was queued, try later. */
    UNAVAILABLE,
    /** The description (some job in it) was refused: nothing was queued. */
    REFUSED,
    /** The command could not run at all (not found, not executable). */
    NOT_RUN
  }

  static SubmitFailure classifySubmit(int exitCode, String output) {
    if (exitCode == 126 || exitCode == 127) {
      return SubmitFailure.NOT_RUN;
    }
    return unavailable(output) ? SubmitFailure.UNAVAILABLE : SubmitFailure.REFUSED;
  }

  /** Messages of HTCondor tools that mean "the schedd (or collector) did not answer". */
  static boolean unavailable(String output) {
    var s = output.toLowerCase(Locale.ROOT);
    return s.contains("failed to connect") || s.contains("failed to fetch ads")
        || s.contains("can't find address") || s.contains("cannot find address")
        || s.contains("connection refused") || s.contains("failed to contact")
        || s.contains("timed out") || s.contains("can't connect")
        // the schedd stopped long enough for the collector to forget it
        || s.contains("collector has no record of schedd");
  }

  /** The first line that says what was wrong ({@code ERROR: ...}), for a refusal message. */
  static String firstError(String output) {
    var lines = output.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    var error = lines.stream().filter(l -> l.startsWith("ERROR")).findFirst();
    return error.orElse(lines.isEmpty() ? "(no message)" : lines.getFirst());
  }

  /**
   * The ads of {@code condor_q -json} or {@code condor_history -json}. condor_q prints nothing at
   * all when nothing matches, condor_history prints {@code [ ]}: both are no ads. Text before the
   * array (a warning) is skipped.
   */
  static List<Ad> parseAds(String stdout) {
    int start = stdout.indexOf('[');
    if (start < 0) {
      if (!stdout.isBlank()) {
        throw new IllegalArgumentException("expected a JSON array of job ads, got: "
            + abbreviate(stdout));
      }
      return List.of();
    }
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(stdout.substring(start));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot read the job ads as JSON (" + e.getOriginalMessage()
          + "): " + abbreviate(stdout), e);
    }
    var ads = new ArrayList<Ad>();
    for (var node : root) {
      var cluster = integer(node, "ClusterId");
      var proc = integer(node, "ProcId");
      var status = integer(node, "JobStatus");
      if (cluster == null || proc == null || status == null) {
        continue; // not a job ad (a cluster ad has no ProcId)
      }
      ads.add(new Ad(cluster + "." + proc, text(node, SubmitDescription.ID_ATTRIBUTE), status,
          integer(node, "ExitCode"), bool(node, "ExitBySignal"), integer(node, "ExitSignal"),
          text(node, "HoldReason"), integer(node, "HoldReasonCode"),
          integer(node, "HoldReasonSubCode"), text(node, "RemoveReason"),
          text(node, "LastHoldReason"), integer(node, "LastHoldReasonCode")));
    }
    return ads;
  }

  /**
   * Whether a failed condor_rm/hold/release complained (on stderr) only about jobs that are gone
   * or already where the action would put them.
   */
  static boolean onlyGoneJobs(String stderr) {
    var complaints = stderr.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    return !complaints.isEmpty() && complaints.stream().allMatch(l -> {
      var s = l.toLowerCase(Locale.ROOT);
      return s.endsWith(" not found") || s.contains("already marked for removal")
          || s.contains("there are no jobs in the queue") || s.contains("not held")
          || s.contains("already held") || s.startsWith("couldn't find/");
    });
  }

  private static Integer integer(JsonNode node, String field) {
    var v = node.get(field);
    return v != null && v.canConvertToInt() && v.isNumber() ? Integer.valueOf(v.intValue()) : null;
  }

  private static Boolean bool(JsonNode node, String field) {
    var v = node.get(field);
    return v != null && v.isBoolean() ? v.booleanValue() : null;
  }

  private static String text(JsonNode node, String field) {
    var v = node.get(field);
    // an expression HTCondor could not reduce is "\/Expr(...)\/": not a value
    return v != null && v.isTextual() && !v.textValue().startsWith("/Expr(") ? v.textValue()
        : null;
  }

  private static String abbreviate(String s) {
    var t = s.strip();
    return t.length() > 300 ? t.substring(0, 300) + "..." : t;
  }

  /**
   * Jackson, loaded at the first listing rather than with this class: the plugin's own copy costs
   * a cold JVM ~0.3 s (0.8 s at load 20) of class loading, which sat on the first submit's path
   * because its answer is read here too.
   */
  private static final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();
  }
}
