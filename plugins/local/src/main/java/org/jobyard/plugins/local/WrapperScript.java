package org.jobyard.plugins.local;

import static org.jobyard.api.ShellQuoting.quote;

import org.jobyard.api.BackendException;
import org.jobyard.api.Durations;
import org.jobyard.api.JobSpec;
import org.jobyard.api.PayloadScript;
import org.jobyard.api.ShellQuoting;

/**
 * Builds {@code job.sh}, the wrapper that runs one attempt. It is started as {@code setsid sh
 * <dir>/job.sh}, so it leads its own process group (cancel and walltime kill the whole tree), and
 * it finds its folder from {@code $0}, so the text holds no paths of the engine's choosing.
 *
 * <p>What it leaves in its folder: {@code pid} (first thing), {@code exitcode}, {@code reason} when
 * the job could not start, {@code walltime} when the limit killed it, and finally {@code ../.done/<tag>}, which
 * the completion watch sees.
 *
 * <p>When the job ends, whatever it left running in its process group is TERMed, as a batch
 * system ends a job's leftovers (a daemon that must outlive its job has to start its own session).
 *
 * <p>{@code pid} and {@code exitcode} are written by one {@code echo}, a single {@code write(2)} of
 * a few bytes, so a reader sees the file empty or whole, and every reader treats an empty file as
 * "not yet" (the poll checks liveness before it reads the exit code). That replaces the usual
 * write-then-{@code mv}, whose fork and exec per job halved the throughput of trivial jobs.
 *
 * <p>Per-job cost matters (a thousand trivial jobs a second on two cores): everything but the
 * job's own programs is a shell builtin.
 */
final class WrapperScript {

  /** Exit code recorded when the job could not start (folder, output files): as sh's 127. */
  static final int SETUP_FAILED = PayloadScript.SETUP_FAILED;

  private WrapperScript() {}

  /**
   * The wrapper's text. Refuses, without retry, a spec no shell can carry: an invalid environment
   * variable name, a NUL character in an argument or value.
   */
  static String build(String tag, JobSpec spec, boolean sharesFilesystem, long killGraceSeconds)
      throws BackendException {
    check(tag, spec);
    var ownFolders = RunAs.of(spec) != null;
    try {
      return text(tag, spec, sharesFilesystem, killGraceSeconds, ownFolders);
    } catch (IllegalArgumentException e) {
      throw BackendException.rejected("job " + tag + " cannot be run by a shell: " + e.getMessage());
    }
  }

  private static void check(String tag, JobSpec spec) throws BackendException {
    for (var name : spec.environment().keySet()) {
      if (!ShellQuoting.isValidVariableName(name)) {
        throw BackendException.rejected("environment variable name '" + name + "' is not valid "
            + "in a POSIX shell (letters, digits and '_', not starting with a digit)");
      }
    }
    for (var step : spec.steps()) {
      if (step.executable().indexOf('\0') >= 0) {
        throw BackendException.rejected("job " + tag + ": the executable contains a NUL character");
      }
    }
  }

  /**
   * @param ownFolders the job makes the folders of its output files itself (it runs as another
   *     account, and the engine creates nothing in that account's area for it)
   */
  private static String text(String tag, JobSpec spec, boolean shares,
      long grace, boolean ownFolders) {
    var out = outputWord(spec.stdout(), "stdout", shares);
    var err = outputWord(spec.stderr(), "stderr", shares);
    var sb = new StringBuilder(512);
    sb.append("#!/bin/sh\n")
        .append("# Jobyard job ").append(tag).append(" (local backend)\n")
        .append("d=${0%/*}\n")
        .append("echo $$ > \"$d/pid\"\n");
    var walltime = spec.resources().walltime();
    if (walltime != null) {
      // Started before any trap is set: a subshell forked while the wrapper traps TERM can drop
      // a TERM that arrives before it resets its traps (seen with dash), and then outlive the
      // job. When the time is up it marks the folder, TERMs the group and KILLs what is left
      // after the grace. It needs no stopping: finish() TERMs the group, watchdog included.
      sb.append("( sleep ").append(Durations.ceilSeconds(walltime))
          .append("; trap '' TERM; true > \"$d/walltime\"; kill -TERM -$$ 2>/dev/null; sleep ")
          .append(grace).append("; kill -KILL -$$ 2>/dev/null ) </dev/null >/dev/null 2>&1 &\n");
    }
    sb.append("finish() {\n")
        .append("  trap '' TERM INT HUP\n")
        .append("  kill -TERM -$$ 2>/dev/null\n")
        .append("  echo \"$1\" > \"$d/exitcode\"\n")
        .append("  true > \"${d%/*}/.done/${d##*/}\"\n")
        .append("  exit \"$1\"\n")
        .append("}\n")
        .append("fail() { printf '%s\\n' \"$2\" > \"$d/reason\"; finish \"$1\"; }\n")
        .append("trap 'finish 143' TERM\ntrap 'finish 130' INT\ntrap 'finish 129' HUP\n")
        .append("[ -e \"$d/cancelled\" ] && finish 143\n");
    if (ownFolders && shares) {
      for (var path : new String[] {spec.stdout(), spec.stderr()}) {
        if (path != null && path.startsWith("/") && JobFiles.parentOf(path) != null) {
          sb.append("mkdir -p -- ").append(quote(JobFiles.parentOf(path))).append(" 2>/dev/null\n");
        }
      }
    }
    // `true >` rather than `exec >` first: a failed redirection of a special builtin would end
    // the shell before it could record why.
    sb.append("{ true > ").append(out).append(" && true > ").append(err).append("; } 2>/dev/null")
        .append(" || fail ").append(SETUP_FAILED)
        .append(" 'cannot create the job'\\''s stdout or stderr file'\n");
    if (out.equals(err)) {
      sb.append("exec >").append(out).append(" 2>&1\n");
    } else {
      sb.append("exec >").append(out).append(" 2>").append(err).append('\n');
    }
    // the job folder first, so that a relative working directory is relative to it
    sb.append("cd \"$d\" || fail ").append(SETUP_FAILED)
        .append(" 'cannot change to the job folder'\n");
    // directory, environment and steps: the same for every shell backend
    return sb.append(PayloadScript.of(spec)).toString();
  }

  /**
   * The job script the {@link Runner} runs: sourced by a subshell of the runner that has set
   * {@code d} (the job folder) and {@code g} (its own pid, the job's process group), it sets up
   * the outputs and then replaces itself with the last step, so that a one-step job is one fork
   * and one exec. It records nothing itself: the runner writes the exit code when the process
   * ends. The whole text is one brace group: bash parses it whole before running any of it, so a
   * file cut short (a full disk, a submit script that died) runs nothing and fails.
   */
  static String forRunner(String tag, JobSpec spec, boolean sharesFilesystem,
      long killGraceSeconds) throws BackendException {
    check(tag, spec);
    try {
      var out = outputWord(spec.stdout(), "stdout", sharesFilesystem);
      var err = outputWord(spec.stderr(), "stderr", sharesFilesystem);
      var sb = new StringBuilder(512);
      sb.append("# Jobyard job ").append(tag).append(" (local backend, runner)\n");
      var direct = direct(spec, sharesFilesystem);
      if (direct != null) {
        sb.append(JobRunner.DIRECT).append(direct).append('\n');
      }
      sb.append("{\n");
      var walltime = spec.resources().walltime();
      if (walltime != null) {
        sb.append("( sleep ").append(Durations.ceilSeconds(walltime))
            .append("; trap '' TERM; : > \"$d/walltime\"; kill -TERM -$g 2>/dev/null; sleep ")
            .append(killGraceSeconds).append("; kill -KILL -$g 2>/dev/null ) </dev/null >/dev/null")
            .append(" 2>&1 &\n");
      }
      sb.append("finish() { exit \"$1\"; }\n")
          .append("fail() { printf '%s\\n' \"$2\" > \"$d/reason\"; exit \"$1\"; }\n")
          .append("exec >").append(out).append(out.equals(err) ? " 2>&1" : " 2>" + err)
          .append(" || fail ").append(SETUP_FAILED)
          .append(" 'cannot create the job'\\''s stdout or stderr file'\n")
          .append("cd \"$d\" || fail ").append(SETUP_FAILED)
          .append(" 'cannot change to the job folder'\n")
          .append(PayloadScript.of(spec, true, "jy_exported")); // filled by runner.sh
      return sb.append("}\n").toString();
    } catch (IllegalArgumentException e) {
      throw BackendException.rejected("job " + tag + " cannot be run by a shell: "
          + e.getMessage());
    }
  }

  /**
   * What the Java runner needs to start a job without a shell, for the {@code #jy-direct} line:
   * a Base64 properties text ({@link JobRunner#direct}); null for a job that needs the shell (more
   * than one step, whose chain stops at the first failure, or a walltime, whose watchdog lives in
   * the job's process group).
   */
  static String direct(JobSpec spec, boolean shares) {
    if (spec.steps().size() != 1 || spec.resources().walltime() != null) {
      return null;
    }
    var p = new java.util.Properties();
    var step = spec.steps().get(0);
    p.setProperty("argc", Integer.toString(1 + step.arguments().size()));
    p.setProperty("argv.0", step.executable());
    for (int i = 0; i < step.arguments().size(); i++) {
      p.setProperty("argv." + (i + 1), step.arguments().get(i));
    }
    spec.environment().forEach((k, v) -> p.setProperty("env." + k, v));
    var kept = PayloadScript.keptVariables(spec);
    if (kept != null) {
      p.setProperty("keep", kept);
    }
    if (spec.directory() != null && !spec.directory().isBlank()) {
      p.setProperty("dir", spec.directory());
    }
    if (spec.stdin() != null) {
      p.setProperty("stdin", spec.stdin());
    }
    if (shares) {
      p.setProperty("out", nullToEmpty(spec.stdout()).isBlank() ? "" : spec.stdout());
      p.setProperty("err", nullToEmpty(spec.stderr()).isBlank() ? "" : spec.stderr());
    }
    var bytes = new java.io.ByteArrayOutputStream();
    try {
      p.store(bytes, null); // ISO-8859-1 with \\u escapes: what Properties.load(InputStream) reads
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e); // a byte array does not fail
    }
    return java.util.Base64.getEncoder().encodeToString(bytes.toByteArray());
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }

  /** The shell word for an output file: in the job folder unless the spec names a shared path. */
  private static String outputWord(String specPath, String defaultName, boolean shares) {
    if (!shares || specPath == null || specPath.isBlank()) {
      return "\"$d/" + defaultName + "\"";
    }
    return specPath.startsWith("/") ? quote(specPath) : "\"$d\"/" + quote(specPath);
  }
}
