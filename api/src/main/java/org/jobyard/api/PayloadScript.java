package org.jobyard.api;

import static org.jobyard.api.ShellQuoting.quote;

import java.util.TreeMap;

/**
 * The part of a job script that every POSIX-shell backend shares (local processes, Slurm batch
 * scripts, HTCondor wrappers): change to the working directory, export the environment, run the
 * steps in order and stop at the first that fails. Everything from the spec is quoted: it is data.
 *
 * <p>The text expects the surrounding script to define {@code $d} (the job's folder, already the
 * current directory), {@code finish CODE} (records the exit code and exits) and {@code fail CODE
 * MESSAGE} (records why the job could not start, then finishes).
 */
public final class PayloadScript {
  /** Exit code recorded when the job could not start (as sh's 127 for a missing program). */
  public static final int SETUP_FAILED = 127;

  private PayloadScript() {}

  /**
   * The script text. Throws {@link IllegalArgumentException} for what no shell can carry: an
   * invalid variable name, a NUL character.
   */
  public static String of(JobSpec spec) {
    return of(spec, false);
  }

  /**
   * The script text; with {@code execLastStep}, the last step replaces the shell ({@code exec})
   * instead of running as its child, so a one-step job costs one process, not two, and its exit
   * status (or the signal that ended it) is the shell's, for the parent to record.
   */
  public static String of(JobSpec spec, boolean execLastStep) {
    var sb = new StringBuilder(256);
    if (spec.directory() != null && !spec.directory().isBlank()) {
      sb.append("cd ").append(quote(spec.directory())).append(" || fail ").append(SETUP_FAILED)
          .append(' ').append(quote("cannot change to working directory " + spec.directory()))
          .append('\n');
    }
    for (var e : new TreeMap<String, String>(spec.environment()).entrySet()) {
      if (!ShellQuoting.isValidVariableName(e.getKey())) {
        throw new IllegalArgumentException("environment variable name '" + e.getKey()
            + "' is not valid in a POSIX shell (letters, digits and '_', not starting with a "
            + "digit)");
      }
      sb.append("export ").append(e.getKey()).append('=').append(quote(e.getValue())).append('\n');
    }
    var steps = spec.steps();
    for (int i = 0; i < steps.size(); i++) {
      var step = steps.get(i);
      boolean exec = execLastStep && i == steps.size() - 1;
      sb.append(exec ? "exec " : "").append(programWord(step.executable()));
      for (var arg : step.arguments()) {
        sb.append(' ').append(quote(arg));
      }
      if (exec) {
        return sb.append('\n').toString();
      }
      sb.append(" || finish $?\n");
    }
    return sb.append("finish 0\n").toString();
  }

  /** The program word, always quoted: unquoted, {@code done} or {@code A=b} would be syntax. */
  static String programWord(String executable) {
    var q = quote(executable);
    return q.startsWith("'") ? q : "'" + executable + "'";
  }

}
