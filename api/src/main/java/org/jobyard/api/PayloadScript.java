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
    return of(spec, execLastStep, null);
  }

  /**
   * The script text for a bash parent that forks every job (the local runner): with {@code
   * exportedNames} the name of a bash array holding the names of the exported variables, which
   * that parent filled once, the environment filter reads it instead of {@code $(export -p)},
   * saving a subshell (a fork of bash) per job. When the array is not set (a parent that does not
   * fill it), the portable filter runs. Null: the portable filter only.
   */
  public static String of(JobSpec spec, boolean execLastStep, String exportedNames) {
    if (exportedNames != null && !ShellQuoting.isValidVariableName(exportedNames)) {
      throw new IllegalArgumentException("not a shell array name: '" + exportedNames + "'");
    }
    var sb = new StringBuilder(256);
    if (spec.directory() != null && !spec.directory().isBlank()) {
      sb.append("cd ").append(quote(spec.directory())).append(" || fail ").append(SETUP_FAILED)
          .append(' ').append(quote("cannot change to working directory " + spec.directory()))
          .append('\n');
    }
    if (!spec.inheritsAllEnvironment()) {
      var filter = environmentFilter(spec.inheritEnvironment());
      if (exportedNames == null) {
        sb.append(filter);
      } else {
        sb.append("if [ -n \"${").append(exportedNames).append("+set}\" ]; then\n")
            .append("for jy_n in \"${").append(exportedNames).append("[@]}\"; do\n")
            .append("  case $jy_n in d|jy_*|").append(kept(spec.inheritEnvironment()))
            .append(") continue ;; esac\n")
            .append("  command unset \"$jy_n\" 2>/dev/null\n")
            .append("done\nelse\n").append(filter).append("fi\n");
      }
    }
    for (var e : new TreeMap<String, String>(spec.environment()).entrySet()) {
      if (!ShellQuoting.isValidVariableName(e.getKey())) {
        throw new IllegalArgumentException("environment variable name '" + e.getKey()
            + "' is not valid in a POSIX shell (letters, digits and '_', not starting with a "
            + "digit)");
      }
      sb.append("export ").append(e.getKey()).append('=').append(quote(e.getValue())).append('\n');
    }
    if (spec.stdin() != null) {
      // tried first with a regular builtin: a failed redirection of `exec` would end the shell
      // before it could record why
      var file = quote(spec.stdin());
      sb.append("{ true <").append(file).append("; } 2>/dev/null || fail ").append(SETUP_FAILED)
          .append(' ').append(quote("cannot read the standard input file " + spec.stdin()))
          .append("\nexec <").append(file).append('\n');
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

  /**
   * Variables of the environment the script was started in that a job sees without inheriting
   * it: what a fresh login and the batch system give every job (Slurm's and HTCondor's own).
   */
  static final String KEPT = "HOME|USER|LOGNAME|PATH|SHELL|LANG|LANGUAGE|LC_*|TZ|TMPDIR"
      + "|SLURM_*|SLURMD_*|_CONDOR_*|CONDOR_*|BATCH_SYSTEM|OMP_NUM_THREADS";

  /**
   * Unsets every exported variable but {@link #KEPT} and {@code allowed} (names or {@code *}
   * patterns), with shell builtins only but one subshell. A value spanning lines can make a line
   * of {@code export -p} look like another variable: the script's own {@code d} and {@code jy_*}
   * are never unset, and unsetting anything else at most removes what was to go anyway.
   */
  static String environmentFilter(java.util.List<String> allowed) {
    for (var pattern : allowed) {
      if (!JobSpec.isVariablePattern(pattern)) {
        throw new IllegalArgumentException("inherit_environment: '" + pattern + "' is not a "
            + "variable name or pattern (letters, digits, '_' and '*')");
      }
    }
    return """
        while IFS= read -r jy_l; do
          case $jy_l in 'export '*|'declare -x '*) ;; *) continue ;; esac
          jy_n=${jy_l#export }; jy_n=${jy_n#declare -x }; jy_n=${jy_n%%=*}
          case $jy_n in d|jy_*|KEPT) continue ;; esac
          command unset "$jy_n" 2>/dev/null
        done <<JY_ENV_END
        $(export -p)
        JY_ENV_END
        """.replace("KEPT", kept(allowed));
  }

  /**
   * The variables a job keeps from the environment it is started in, as a {@code |}-separated
   * list of names and {@code *} patterns ({@link #KEPT} and its {@code inherit_environment}), for
   * a starter that builds the environment itself instead of running {@link #of}'s filter; null
   * when the job inherits everything.
   */
  public static String keptVariables(JobSpec spec) {
    if (spec.inheritsAllEnvironment()) {
      return null;
    }
    environmentFilter(spec.inheritEnvironment()); // checks the patterns
    return kept(spec.inheritEnvironment());
  }

  /** The names kept, as a {@code case} pattern (checked by {@link #environmentFilter}). */
  private static String kept(java.util.List<String> allowed) {
    return allowed.isEmpty() ? KEPT : KEPT + "|" + String.join("|", allowed);
  }

  /** The program word, always quoted: unquoted, {@code done} or {@code A=b} would be syntax. */
  static String programWord(String executable) {
    var q = quote(executable);
    return q.startsWith("'") ? q : "'" + executable + "'";
  }

}
