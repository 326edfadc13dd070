package org.jobyard.plugins.local;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.jobyard.api.JobStatus;

/**
 * Parses what the {@link Scripts} print. Pure functions: lines that do not match (a login banner,
 * a shell warning) are ignored, and a job without a line is the caller's to report as unknown.
 */
final class Listings {

  private static final Pattern WORKDIR = Pattern.compile("^W (/.*)$");
  private static final Pattern LAUNCHED = Pattern.compile("^J ([A-Za-z0-9._-]+) (\\d+|-)$");
  private static final Pattern LAUNCH_ERROR = Pattern.compile("^E ([A-Za-z0-9._-]+) (.*)$");
  private static final Pattern POLL_MISSING = Pattern.compile("^P (\\d+) missing$");
  private static final Pattern POLL = Pattern.compile(
      "^P (\\d+) (\\S+) (\\d+|-) ([01]) ([01]) ([01]) ([01]) ?(.*)$");
  private static final Pattern RUNNER = Pattern.compile("^R ([01])$");
  private static final Pattern LOOKUP = Pattern.compile("^L (\\d+) (\\d+|-) (\\S+)$");

  private Listings() {}

  /** What a submit script reported: the absolute workdir, pids by tag, errors by tag. */
  record SubmitListing(String workdir, Map<String, String> pids, Map<String, String> errors) {}

  static SubmitListing parseSubmit(String stdout) {
    String workdir = null;
    var pids = new LinkedHashMap<String, String>();
    var errors = new LinkedHashMap<String, String>();
    for (var line : stdout.split("\r?\n")) {
      var w = WORKDIR.matcher(line);
      if (w.matches()) {
        workdir = w.group(1);
        continue;
      }
      var j = LAUNCHED.matcher(line);
      if (j.matches()) {
        pids.put(j.group(1), j.group(2));
        continue;
      }
      var e = LAUNCH_ERROR.matcher(line);
      if (e.matches()) {
        errors.put(e.group(1), e.group(2));
      }
    }
    return new SubmitListing(workdir, pids, errors);
  }

  /** The absolute workdir a script printed, if any. */
  static String parseWorkdir(String stdout) {
    for (var line : stdout.split("\r?\n")) {
      var w = WORKDIR.matcher(line);
      if (w.matches()) {
        return w.group(1);
      }
    }
    return null;
  }

  /**
   * One job's line of the poll listing.
   *
   * @param exitCode the recorded exit code text, or null when there is none yet
   * @param pid the wrapper's pid, or null before it wrote one
   * @param alive whether that pid is still the job's wrapper
   * @param cancelled whether the cancelled marker exists
   * @param walltime whether the walltime marker exists
   * @param queued whether the job waits in its runner's queue (handed over, not started)
   * @param reason why the job could not start, or empty
   */
  record PollLine(String exitCode, String pid, boolean alive, boolean cancelled,
      boolean walltime, boolean queued, String reason) {
    PollLine(String exitCode, String pid, boolean alive, boolean cancelled, boolean walltime,
        String reason) {
      this(exitCode, pid, alive, cancelled, walltime, false, reason);
    }
  }

  /**
   * A poll script's listing: statuses by job index, the jobs waiting in the runner's queue, and
   * whether the runner is alive (false when the listing did not say).
   */
  record PollListing(Map<Integer, JobStatus> statuses, java.util.Set<Integer> queued,
      boolean runnerAlive) {}

  /** Job index to status; a missing folder is {@link JobStatus.Unknown}. */
  static Map<Integer, JobStatus> parsePoll(String stdout) {
    return parsePollListing(stdout).statuses();
  }

  static PollListing parsePollListing(String stdout) {
    var result = new HashMap<Integer, JobStatus>();
    var queued = new java.util.HashSet<Integer>();
    boolean runner = false;
    for (var line : stdout.split("\r?\n")) {
      var r = RUNNER.matcher(line);
      if (r.matches()) {
        runner = r.group(1).equals("1");
        continue;
      }
      var missing = POLL_MISSING.matcher(line);
      if (missing.matches()) {
        result.put(Integer.parseInt(missing.group(1)),
            new JobStatus.Unknown("the job folder does not exist on the execution host"));
        continue;
      }
      var m = POLL.matcher(line);
      if (m.matches()) {
        var ec = m.group(2).equals("-") ? null : m.group(2);
        var pid = m.group(3).equals("-") ? null : m.group(3);
        var line1 = new PollLine(ec, pid, m.group(4).equals("1"), m.group(5).equals("1"),
            m.group(6).equals("1"), m.group(7).equals("1"), m.group(8).strip());
        int index = Integer.parseInt(m.group(1));
        result.put(index, status(line1));
        if (line1.queued()) {
          queued.add(index);
        }
      }
    }
    return new PollListing(result, queued, runner);
  }

  /** What one job's files say about it. */
  static JobStatus status(PollLine line) {
    if (line.exitCode() != null) {
      int code;
      try {
        code = Integer.parseInt(line.exitCode());
      } catch (NumberFormatException e) {
        return new JobStatus.Unknown("unreadable exit code file: '" + line.exitCode() + "'");
      }
      if (line.walltime()) {
        return new JobStatus.Failed(code, "WALLTIME", "walltime exceeded");
      }
      if (line.cancelled()) {
        return new JobStatus.Cancelled("CANCELLED", "cancelled on request");
      }
      if (!line.reason().isEmpty()) {
        return new JobStatus.Failed(code, "NOT_STARTED", line.reason());
      }
      return new JobStatus.Exited(code, "EXITED", null);
    }
    if (line.pid() == null && line.queued()) {
      return new JobStatus.Pending("QUEUED", "handed over to the runner, waiting for a free slot");
    }
    if (line.pid() == null) {
      return new JobStatus.Pending("STARTING", "launched, the wrapper has not started yet");
    }
    if (line.alive()) {
      return new JobStatus.Running("RUNNING");
    }
    if (line.walltime()) {
      return new JobStatus.Failed(-1, "WALLTIME", "walltime exceeded");
    }
    if (line.cancelled()) {
      return new JobStatus.Cancelled("CANCELLED", "cancelled on request");
    }
    return new JobStatus.Failed(-1, "LOST", "process ended without recording an exit code");
  }

  /** A found job: its pid (or "-") and exit code (or "-"). */
  record Found(String pid, String exitCode) {}

  /** Job index to what the lookup found; absent indexes were not found. */
  static Map<Integer, Found> parseLookup(String stdout) {
    var result = new HashMap<Integer, Found>();
    for (var line : stdout.split("\r?\n")) {
      var m = LOOKUP.matcher(line);
      if (m.matches()) {
        result.put(Integer.parseInt(m.group(1)), new Found(m.group(2), m.group(3)));
      }
    }
    return result;
  }
}
