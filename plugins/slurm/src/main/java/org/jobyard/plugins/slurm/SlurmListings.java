package org.jobyard.plugins.slurm;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.jobyard.toolkit.SubmitVerdict;

/**
 * Parsers for what Slurm and {@link SlurmScripts} print. Pure functions, tested against outputs
 * recorded from real Slurm (src/test/resources/slurm-22.05). Lines that do not match (a login
 * banner, a warning) are skipped; a job without a line is the caller's to report as unknown.
 */
final class SlurmListings {

  /** The {@code squeue -O} format for polls: the exit code last, so an older squeue that does
   * not know the field still prints the others in place. */
  static final String POLL_FORMAT = "JobID:|,State:|,Reason:|,exit_code:|";

  /** The {@code squeue -O} format for lookups by name. */
  static final String LOOKUP_FORMAT = "JobID:|,Name:|,State:|";

  /** The {@code sacct --format} fields. */
  static final String SACCT_FORMAT = "JobID,State,ExitCode,Reason";

  private static final Pattern JOB_ID = Pattern.compile("\\d+");
  private static final Pattern SBATCH_ID = Pattern.compile("^(\\d+)(?:;(\\S+))?$");
  private static final Pattern SUBMITTED = Pattern.compile("^S ([A-Za-z0-9._-]+) ?(.*)$");
  private static final Pattern SUBMIT_ERROR = Pattern.compile("^E ([A-Za-z0-9._-]+) (\\d+) ?(.*)$");
  private static final Pattern MARKERS = Pattern.compile(
      "^M (\\d+) (\\S+) (\\S+) ([01]) ([01])$");
  private static final Pattern RECORDED = Pattern.compile("^L (\\d+) (.*)$");
  private static final Pattern IN_FLIGHT = Pattern.compile("^P (\\d+) (\\d+)$");

  /**
   * Texts that mean the controller (or the path to it) did not answer, as opposed to an answer
   * about a job. "Unexpected message received" is what 22.05's scontrol hold/release print when
   * slurmctld is down.
   */
  private static final List<String> UNAVAILABLE = List.of(
      "unable to contact slurm controller", "socket timed out", "connection refused",
      "unexpected message received", "zero bytes were transmitted", "communication connection failure",
      "slurm_receive_msg", "temporarily unavailable", "try again", "slurmctld is not responding",
      "protocol authentication error", "munge", "insane message length", "connection reset");

  /** Submit refusals that clear up by themselves: limits on queued jobs, a busy controller. */
  private static final List<String> TRANSIENT_REFUSAL = List.of(
      "maxsubmit", "qosmaxsubmitjob", "assocmaxsubmitjob", "job violates accounting/qos policy",
      "slurm temporarily unable to accept job", "resource temporarily unavailable");

  private SlurmListings() {}

  // -------------------------------------------------------------------------------- squeue ---

  /** One job as squeue lists it. {@code exit} is null when squeue printed none. */
  record QueueRow(String id, String state, String reason, ExitCode exit) {}

  /** An exit code and the signal that ended the job (0 if none). */
  record ExitCode(int code, int signal) {
    /**
     * Parses {@code code:signal} (scontrol, sacct, newer squeue) or a raw wait status (squeue
     * {@code -O exit_code} in 22.05 prints {@code 768} for {@code exit 3}, {@code 9} for SIGKILL).
     */
    static ExitCode parse(String text) {
      var s = text == null ? "" : text.strip();
      if (s.isEmpty()) {
        return null;
      }
      try {
        int colon = s.indexOf(':');
        if (colon >= 0) {
          return new ExitCode(Integer.parseInt(s.substring(0, colon)),
              Integer.parseInt(s.substring(colon + 1)));
        }
        int status = Integer.parseInt(s);
        if ((status & 0x7f) == 0) {
          return new ExitCode((status >> 8) & 0xff, 0);
        }
        return new ExitCode(0, status & 0x7f);
      } catch (NumberFormatException e) {
        return null;
      }
    }
  }

  /** Rows of {@code squeue -h -O }{@link #POLL_FORMAT}, by job id. */
  static Map<String, QueueRow> parseQueue(String stdout) {
    var rows = new LinkedHashMap<String, QueueRow>();
    for (var line : lines(stdout)) {
      var f = line.split("\\|", -1);
      if (f.length < 3 || !JOB_ID.matcher(f[0].strip()).matches()) {
        continue;
      }
      var state = f[1].strip();
      if (state.isEmpty()) {
        continue;
      }
      var exit = f.length > 3 ? ExitCode.parse(f[3]) : null;
      rows.put(f[0].strip(), new QueueRow(f[0].strip(), state, f[2].strip(), exit));
    }
    return rows;
  }

  /** What a non-zero squeue means. */
  enum QueueError {
    /** Asked about one job only, which Slurm no longer (or never) knew: an empty listing. */
    NO_SUCH_JOB,
    /** The controller did not answer, or answered something we cannot read. */
    UNAVAILABLE
  }

  /** squeue with exactly one unknown id exits 1 with "Invalid job id specified" (22.05 OBS). */
  static QueueError classifyQueueFailure(String stderr) {
    return stderr.contains("Invalid job id specified") ? QueueError.NO_SUCH_JOB
        : QueueError.UNAVAILABLE;
  }

  /** Job ids by job name from {@code squeue -h -O }{@link #LOOKUP_FORMAT}. Later ids win. */
  static Map<String, String> parseLookup(String stdout) {
    var ids = new LinkedHashMap<String, String>();
    for (var line : lines(stdout)) {
      var f = line.split("\\|", -1);
      if (f.length >= 2 && JOB_ID.matcher(f[0].strip()).matches() && !f[1].isBlank()) {
        var previous = ids.get(f[1].strip());
        if (previous == null || Long.parseLong(previous) < Long.parseLong(f[0].strip())) {
          ids.put(f[1].strip(), f[0].strip());
        }
      }
    }
    return ids;
  }

  // ---------------------------------------------------------------------------------- sacct ---

  /** One job as {@code sacct -P -n -X --format=}{@link #SACCT_FORMAT} lists it. */
  record AcctRow(String id, String state, ExitCode exit, String reason) {}

  static Map<String, AcctRow> parseSacct(String stdout) {
    var rows = new LinkedHashMap<String, AcctRow>();
    for (var line : lines(stdout)) {
      var f = line.split("\\|", -1);
      if (f.length < 3 || !JOB_ID.matcher(f[0].strip()).matches()) {
        continue; // step lines (123.batch) when -X is ignored, array or het ids: not ours
      }
      // "CANCELLED by 1001": the first word is the state
      var state = f[1].strip().split("\\s+")[0];
      rows.put(f[0].strip(), new AcctRow(f[0].strip(), state, ExitCode.parse(f[2]),
          f.length > 3 ? f[3].strip() : ""));
    }
    return rows;
  }

  /** {@code sacct} on a cluster without slurmdbd: "Slurm accounting storage is disabled". */
  static boolean accountingDisabled(String stderr) {
    return stderr.toLowerCase(Locale.ROOT).contains("accounting storage is disabled");
  }

  // --------------------------------------------------------------------------------- sbatch ---

  /** The job id from {@code sbatch --parsable} output ({@code 123} or {@code 123;cluster}). */
  static String parseSbatchId(String output) {
    for (var line : lines(output)) {
      var m = SBATCH_ID.matcher(line.strip());
      if (m.matches()) {
        return m.group(1);
      }
    }
    return null;
  }

  /** What the submit script reported per tag. */
  record SubmitListing(Map<String, String> ids, Map<String, String> garbled,
      Map<String, SubmitError> errors) {}

  /** sbatch refused a job: its exit code and stderr. */
  record SubmitError(int exitCode, String message) {}

  static SubmitListing parseSubmit(String stdout) {
    var ids = new LinkedHashMap<String, String>();
    var garbled = new LinkedHashMap<String, String>();
    var errors = new LinkedHashMap<String, SubmitError>();
    for (var line : lines(stdout)) {
      var s = SUBMITTED.matcher(line);
      if (s.matches()) {
        var id = parseSbatchId(s.group(2));
        if (id != null) {
          ids.put(s.group(1), id);
        } else {
          garbled.put(s.group(1), s.group(2));
        }
        continue;
      }
      var e = SUBMIT_ERROR.matcher(line);
      if (e.matches()) {
        errors.put(e.group(1), new SubmitError(Integer.parseInt(e.group(2)), e.group(3).strip()));
      }
    }
    return new SubmitListing(ids, garbled, errors);
  }


  /** The submit script's exit for "a job folder could not be prepared" (before sbatch ran). */
  static final int EXIT_NOT_PREPARED = 4;

  /** The submit script's exit for "an earlier submission of this attempt is unresolved". */
  static final int EXIT_IN_DOUBT = 75;

  /**
   * Texts after which slurmctld may have received (and will act on) the request: a stalled
   * controller makes sbatch give up after MessageTimeout with "Socket timed out on send/recv
   * operation", then creates the job when it resumes (recorded: {@code sbatch-ctld-frozen}).
   */
  private static final List<String> MAYBE_RECEIVED = List.of(
      "timed out", "timeout", "zero bytes were transmitted", "slurm_receive_msg",
      "connection reset", "unexpected message received", "insane message length",
      "communication connection failure", "slurmctld is not responding", "broken pipe");

  /** Texts that say the request never reached slurmctld. */
  private static final List<String> NOT_SENT = List.of(
      "connect failure", "connection refused", "unable to contact slurm controller",
      "protocol authentication error", "munge");

  /**
   * Classifies a failed sbatch by its exit code and stderr. A refusal of the job as specified
   * (bad partition, impossible resources, unknown option: sbatch exits 1 or 255 and says so) is
   * {@link SubmitVerdict#REFUSED}; a controller that could not be reached, or a limit on queued
   * jobs, is {@link SubmitVerdict#NOT_NOW}; a timeout after sending, and anything this method
   * cannot classify (killed by a signal, an exit without a message), is {@link
   * SubmitVerdict#IN_DOUBT}.
   */
  static SubmitVerdict classifySubmit(int exitCode, String message) {
    var m = message.toLowerCase(Locale.ROOT);
    if (exitCode == 126 || exitCode == 127) {
      return SubmitVerdict.REFUSED; // the shell could not run sbatch at all: nothing was sent
    }
    if (exitCode == EXIT_IN_DOUBT || MAYBE_RECEIVED.stream().anyMatch(m::contains)) {
      return SubmitVerdict.IN_DOUBT;
    }
    if (exitCode == EXIT_NOT_PREPARED || NOT_SENT.stream().anyMatch(m::contains)
        || TRANSIENT_REFUSAL.stream().anyMatch(m::contains)) {
      return SubmitVerdict.NOT_NOW;
    }
    if ((exitCode == 1 || exitCode == 255) && m.contains("sbatch:")) {
      return SubmitVerdict.REFUSED;
    }
    return SubmitVerdict.IN_DOUBT;
  }

  /** Whether an error text says the controller did not answer. */
  static boolean isUnavailable(String text) {
    var t = text.toLowerCase(Locale.ROOT);
    return UNAVAILABLE.stream().anyMatch(t::contains);
  }

  /**
   * Errors of {@code scontrol hold|release} that only say a job is gone or done (the engine may
   * ask about jobs that ended meanwhile); everything else is a real refusal.
   */
  static boolean onlyGoneJobs(String stderr) {
    for (var line : lines(stderr)) {
      var l = line.strip();
      if (l.isEmpty() || l.startsWith("slurm_suspend error:") || l.startsWith("slurm_")) {
        continue;
      }
      if (!(l.startsWith("Invalid job id specified") || l.startsWith("Job has already finished")
          || l.startsWith("Job/step already completing or completed"))) {
        return false;
      }
    }
    return true;
  }

  // ----------------------------------------------------------------------- script listings ---

  /** What a job folder says (see {@link SlurmScripts#markers}). */
  record Markers(boolean exists, Integer exitCode, String signal, boolean cancelled) {
    static final Markers MISSING = new Markers(false, null, null, false);
  }

  static Map<Integer, Markers> parseMarkers(String stdout) {
    var result = new LinkedHashMap<Integer, Markers>();
    for (var line : lines(stdout)) {
      var m = MARKERS.matcher(line);
      if (!m.matches()) {
        continue;
      }
      Integer code = null;
      if (!m.group(2).equals("-")) {
        try {
          code = Integer.parseInt(m.group(2));
        } catch (NumberFormatException e) {
          code = null; // a torn or foreign file: as if absent
        }
      }
      result.put(Integer.parseInt(m.group(1)), new Markers(m.group(5).equals("1"), code,
          m.group(3).equals("-") ? null : m.group(3), m.group(4).equals("1")));
    }
    return result;
  }

  /** Recorded job ids by folder index (see {@link SlurmScripts#recordedIds}). */
  static Map<Integer, String> parseRecorded(String stdout) {
    var result = new LinkedHashMap<Integer, String>();
    for (var line : lines(stdout)) {
      if (line.startsWith("P ")) {
        continue; // an sbatch still running: see inFlight
      }
      var m = RECORDED.matcher(line);
      if (m.matches()) {
        var id = parseSbatchId(m.group(2));
        if (id != null) {
          result.put(Integer.parseInt(m.group(1)), id);
        }
      }
    }
    return result;
  }

  /** The folders ({@code P <n> <pid>}) whose sbatch is still running, by index. */
  static Map<Integer, String> parseInFlight(String stdout) {
    var result = new LinkedHashMap<Integer, String>();
    for (var line : lines(stdout)) {
      var m = IN_FLIGHT.matcher(line);
      if (m.matches()) {
        result.put(Integer.parseInt(m.group(1)), m.group(2));
      }
    }
    return result;
  }

  private static List<String> lines(String text) {
    return text == null || text.isEmpty() ? List.of() : List.of(text.split("\r?\n"));
  }
}
