package org.jobyard.plugins.slurm;

import static org.jobyard.api.ShellQuoting.quote;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobSpec;
import org.jobyard.api.PayloadScript;
import org.jobyard.api.Resources;
import org.jobyard.api.ShellQuoting;

/**
 * What goes to {@code sbatch} for one attempt: the batch script's text and the options. Pure.
 *
 * <p>The options go on the {@code sbatch} command line, not in {@code #SBATCH} lines: sbatch
 * parses those with its own limited quoting, while the command line is quoted for the shell like
 * any other argument.
 *
 * <p>The script leaves in the job folder: {@code exitcode} (the payload's exit code, written to a
 * temporary file and renamed, so a reader sees it whole or not at all), {@code signal} when Slurm
 * (scancel, walltime, preemption) sent it TERM, INT or HUP, and {@code reason} when it could not
 * start the payload. {@code exitcode} is what makes a result survive {@code squeue} forgetting the
 * job after {@code MinJobAge} on clusters without accounting.
 */
final class BatchScript {

  /** Exit code recorded when the payload could not be started: as sh's 127. */
  static final int SETUP_FAILED = PayloadScript.SETUP_FAILED;

  /** Options Jobyard sets itself: a native option must not change the job's identity or files. */
  private static final Set<String> RESERVED = Set.of("parsable", "job-name", "comment", "chdir",
      "output", "error", "wrap", "array", "wait", "test-only", "export-file", "input",
      "export");

  private static final Pattern NATIVE_KEY = Pattern.compile("[a-z][a-z0-9-]*");

  private BatchScript() {}

  /** The batch script and the {@code sbatch} options (without {@code sbatch} and the script). */
  record Submission(String script, List<String> options) {}

  /**
   * Builds the submission of one attempt whose folder is {@code dir} (absolute). Refuses, without
   * retry, what no shell or sbatch can carry: invalid variable names, NUL characters, malformed
   * native options.
   */
  static Submission build(String tag, String dir, JobSpec spec, SlurmSettings settings)
      throws BackendException {
    for (var name : spec.environment().keySet()) {
      if (!ShellQuoting.isValidVariableName(name)) {
        throw BackendException.rejected("job " + tag + ": environment variable name '" + name
            + "' is not valid in a POSIX shell (letters, digits and '_', not starting with a "
            + "digit)");
      }
    }
    try {
      return new Submission(script(tag, dir, spec), options(tag, dir, spec, settings));
    } catch (IllegalArgumentException e) {
      throw BackendException.rejected("job " + tag + " cannot be passed to sbatch: "
          + e.getMessage());
    }
  }

  static List<String> options(String tag, String dir, JobSpec spec, SlurmSettings settings)
      throws BackendException {
    var o = new ArrayList<String>();
    o.add("--parsable");
    o.add("--job-name=" + tag);
    o.add("--comment=" + tag);
    o.add("--chdir=" + dir);
    o.add("--output=" + dir + "/stdout");
    if (!mergedOutput(spec)) {
      o.add("--error=" + dir + "/stderr");
    }
    // sbatch hands the job its whole environment and the script keeps what inherit_environment
    // allows (PayloadScript): NONE would make slurmd load a login environment instead, and a
    // site's SLURM_EXPORT_ENV must not change what the job sees
    o.add("--export=ALL");
    var partition = blankToNull(spec.queue()) != null ? spec.queue().strip() : settings.partition();
    if (partition != null) {
      o.add("--partition=" + partition);
    }
    var account = blankToNull(spec.account()) != null ? spec.account().strip() : settings.account();
    if (account != null) {
      o.add("--account=" + account);
    }
    Resources r = spec.resources();
    if (r.cores() > 0) {
      o.add("--cpus-per-task=" + r.cores());
    }
    if (r.memoryMb() > 0) {
      o.add("--mem=" + r.memoryMb() + "M");
    }
    if (r.walltime() != null) {
      o.add("--time=" + walltimeMinutes(r.walltime()));
    }
    if (r.nodes() > 0) {
      o.add("--nodes=" + r.nodes());
    }
    if (r.gpus() > 0) {
      o.add("--gres=gpu:" + r.gpus());
    }
    var p = spec.placement();
    if (p.processes() > 0) {
      o.add("--ntasks=" + p.processes());
    }
    if (p.processesPerNode() > 0) {
      o.add("--ntasks-per-node=" + p.processesPerNode());
    }
    if (p.exclusive()) {
      o.add("--exclusive");
    }
    if (blankToNull(p.reservation()) != null) {
      o.add("--reservation=" + p.reservation().strip());
    }
    if (p.diskMb() > 0) {
      o.add("--tmp=" + p.diskMb() + "M");
    }
    for (var e : new TreeMap<>(spec.nativeOptions("slurm")).entrySet()) {
      var key = e.getKey();
      if (!NATIVE_KEY.matcher(key).matches()) {
        throw BackendException.rejected("job " + tag + ": native slurm option '" + key
            + "' must be a long sbatch option name such as 'qos' or 'constraint' "
            + "(lower-case letters, digits and '-')");
      }
      if (RESERVED.contains(key)) {
        throw BackendException.rejected("job " + tag + ": native slurm option '" + key
            + "' is set by Jobyard itself and cannot be overridden");
      }
      var value = e.getValue() == null ? "" : e.getValue();
      if (value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0) {
        throw BackendException.rejected("job " + tag + ": native slurm option '" + key
            + "' must be on one line");
      }
      o.add(value.isEmpty() ? "--" + key : "--" + key + "=" + value);
    }
    return o;
  }

  /** Slurm's limits are whole minutes: round up, at least one. */
  static long walltimeMinutes(java.time.Duration walltime) {
    long seconds = org.jobyard.api.Durations.ceilSeconds(walltime);
    return Math.max(1, (seconds + 59) / 60);
  }

  /** Whether the spec sends stdout and stderr to one file: then Slurm writes one file too. */
  static boolean mergedOutput(JobSpec spec) {
    return spec.stdout() != null && !spec.stdout().isBlank() && spec.stdout().equals(spec.stderr());
  }

  private static String script(String tag, String dir, JobSpec spec) {
    var sb = new StringBuilder(512);
    sb.append("#!/bin/sh\n")
        .append("# Jobyard job ").append(tag).append(" (slurm backend)\n")
        .append("d=").append(quote(dir)).append('\n')
        // a requeued job starts again: what its previous run left is not its result
        .append("rm -f \"$d/exitcode\" \"$d/signal\" \"$d/reason\"\n")
        .append("finish() {\n")
        .append("  trap '' TERM INT HUP\n")
        .append("  printf '%s\\n' \"$1\" > \"$d/exitcode.tmp\" && mv -f \"$d/exitcode.tmp\" ")
        .append("\"$d/exitcode\"\n")
        .append("  exit \"$1\"\n")
        .append("}\n")
        .append("fail() { printf '%s\\n' \"$2\" > \"$d/reason\"; finish \"$1\"; }\n")
        .append("trap 'echo TERM > \"$d/signal\"; finish 143' TERM\n")
        .append("trap 'echo INT > \"$d/signal\"; finish 130' INT\n")
        .append("trap 'echo HUP > \"$d/signal\"; finish 129' HUP\n")
        .append("cd \"$d\" || fail ").append(SETUP_FAILED)
        .append(" 'cannot change to the job folder'\n");
    // directory, environment and steps: the same for every shell backend
    return sb.append(PayloadScript.of(spec)).toString();
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
