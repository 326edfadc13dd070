package org.jobyard.plugins.slurm;

import static org.jobyard.api.ShellQuoting.quote;

import java.util.Collection;
import java.util.List;
import org.jobyard.api.ShellQuoting;

/**
 * The shell scripts the backend sends as {@code sh -s} (the script on standard input, so no
 * command-line length limit), one per batch whatever the number of jobs. Their output is parsed
 * by {@link SlurmListings}. The Slurm listings themselves ({@code squeue}, {@code sacct},
 * {@code scontrol}) run as plain commands, so that what the parsers see is exactly what Slurm
 * printed.
 */
final class SlurmScripts {

  private SlurmScripts() {}

  /** One job to submit: its tag, absolute folder, batch script and full sbatch command. */
  record Submit(String tag, String dir, String script, List<String> sbatch) {}

  /**
   * Writes each job's {@code job.sh} into its folder and runs sbatch on it. Prints {@code S <tag>
   * <sbatch output>} or {@code E <tag> <sbatch exit code> <stderr on one line>}.
   *
   * <p>A second guard behind the engine's lookup: a folder that already holds a {@code jobid} was
   * submitted before, and its recorded id is printed again. A folder with a {@code submitting}
   * mark (the pid of an sbatch that gave no id: a timeout, a lost connection) is not submitted
   * blindly: while that sbatch runs, the job is reported in doubt (exit {@value
   * SlurmListings#EXIT_IN_DOUBT}); after it, squeue is asked for the tag first, and a job found
   * is reported instead of submitting another.
   *
   * <p>The folders are made by one {@code mkdir} up front rather than one per job, and only
   * builtins run per job besides {@code sbatch} itself (the id is read from its output file, not
   * taken by a command substitution). Up to {@code parallel} jobs are submitted at once, each in
   * a subshell of its own (a fork, no exec), a new one starting as soon as one ends (a window,
   * not groups that wait for their slowest call): slurmctld serves several submissions at once,
   * so the batch beats a sequential loop. Every result is one
   * short {@code echo}, a single write, so lines of jobs submitted at once never interleave.
   */
  static String submit(List<Submit> jobs, String squeue) {
    return submit(jobs, squeue, 1);
  }

  static String submit(List<Submit> jobs, String squeue, int parallel) {
    if (parallel < 1) {
      throw new IllegalArgumentException("parallel must be at least 1, got " + parallel);
    }
    var sb = new StringBuilder(768 + jobs.size() * 1200);
    sb.append("SQ=").append(quote(squeue)).append('\n');
    sb.append("""
        sub() {
          t=$1; d=$2; s=$3; shift 3
          if [ -s "$d/jobid" ]; then i=; read -r i < "$d/jobid"; echo "S $t $i"; return; fi
          [ -d "$d" ] || { echo "E $t 4 cannot create the job folder $d"; return; }
          if [ -s "$d/submitting" ]; then
            p=; read -r p < "$d/submitting"
            if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
              echo "E $t 75 an earlier sbatch of this job (pid $p) is still running"; return
            fi
            if ! i=$("$SQ" --noheader --states=all --name="$t" --format=%i 2>&1); then
              echo "E $t 75 cannot check for an earlier submission: $(echo $i)"; return
            fi
            i=$(echo $i)
            if [ -n "$i" ]; then
              i=${i%% *}; printf '%s\\n' "$i" > "$d/jobid"; echo "S $t $i"; return
            fi
          fi
          printf '%s' "$s" > "$d/job.sh" || { echo "E $t 4 cannot write $d/job.sh"; return; }
          "$@" "$d/job.sh" >"$d/sbatch.out" 2>"$d/sbatch.err" 3>&- &
          p=$!
          echo "$p" > "$d/submitting"
          if wait "$p"; then
            i=; read -r i < "$d/sbatch.out"
            printf '%s\\n' "$i" > "$d/jobid"
            echo "S $t $i"
          else
            rc=$?
            echo "E $t $rc $(tr '\\n' ' ' < "$d/sbatch.err")"
          fi
        }
        """);
    for (int from = 0; from < jobs.size(); from += 200) {
      sb.append("mkdir -p --");
      for (var j : jobs.subList(from, Math.min(jobs.size(), from + 200))) {
        sb.append(' ').append(quote(j.dir()));
      }
      sb.append(" 2>/dev/null\n");
    }
    if (parallel == 1 || jobs.size() == 1) {
      sb.append("go() { sub \"$@\"; }\n");
    } else {
      // a window of `parallel` sbatch calls, not groups that wait for their slowest: a slot
      // is a token in a FIFO, taken before a job starts and given back when it ends (dash has
      // no `wait -n`); without a FIFO the jobs go one at a time
      sb.append("f=${TMPDIR:-/tmp}/jobyard-submit.$$\n")
          .append("if rm -f \"$f\" && mkfifo -m 600 \"$f\" 2>/dev/null; then\n")
          .append("  exec 3<>\"$f\"; rm -f \"$f\"\n")
          .append("  n=0; while [ $n -lt ").append(parallel).append(" ]; do echo >&3; "
              + "n=$((n+1)); done\n")
          .append("  go() { read -r _ <&3; { sub \"$@\"; echo >&3; } & }\n")
          .append("else\n  go() { sub \"$@\"; }\nfi\n");
    }
    for (var j : jobs) {
      sb.append("go ").append(j.tag()).append(' ').append(quote(j.dir())).append(' ')
          .append(quote(j.script())).append(' ').append(ShellQuoting.join(j.sbatch()))
          .append('\n');
    }
    sb.append("wait\n");
    return sb.toString();
  }

  /** Creates job folders before their input files are uploaded. */
  static String prepare(Collection<String> dirs) {
    var sb = new StringBuilder();
    for (var d : dirs) {
      sb.append("mkdir -p -- ").append(quote(d)).append(" || exit 4\n");
    }
    return sb.toString();
  }

  /**
   * What the job folders say, for jobs squeue no longer (or not yet) shows as running: prints
   * {@code M <n> <exitcode|-> <signal|-> <cancelled 0|1> <folder exists 0|1>}. Builtins only.
   */
  static String markers(List<String> dirs) {
    var sb = new StringBuilder(256 + dirs.size() * 64);
    sb.append("""
        m() {
          if [ ! -d "$2" ]; then echo "M $1 - - 0 0"; return; fi
          ec=; sg=; c=0
          [ -f "$2/exitcode" ] && read -r ec < "$2/exitcode"
          [ -f "$2/signal" ] && read -r sg < "$2/signal"
          [ -e "$2/cancelled" ] && c=1
          echo "M $1 ${ec:--} ${sg:--} $c 1"
        }
        """);
    for (int i = 0; i < dirs.size(); i++) {
      sb.append("m ").append(i).append(' ').append(quote(dirs.get(i))).append('\n');
    }
    return sb.toString();
  }

  /**
   * Marks the folders cancelled (so a job that leaves squeue before it ran still reads as
   * cancelled), then runs scancel on all ids at once; its exit code and stderr are the script's.
   */
  static String cancel(List<String> dirs, List<String> scancel) {
    var sb = new StringBuilder(256 + dirs.size() * 64);
    for (var d : dirs) {
      sb.append("[ -d ").append(quote(d)).append(" ] && : > ").append(quote(d + "/cancelled"))
          .append(" 2>/dev/null\n");
    }
    sb.append("exec ").append(ShellQuoting.join(scancel)).append('\n');
    return sb.toString();
  }

  /**
   * Prints {@code L <n> <jobid file content>} for each folder with a recorded Slurm id, and {@code
   * P <n> <pid>} for a folder whose sbatch (marked in {@code submitting}) is still running.
   */
  static String recordedIds(List<String> dirs) {
    var sb = new StringBuilder(256 + dirs.size() * 64);
    sb.append("""
        l() {
          if [ -s "$2/jobid" ]; then i=; read -r i < "$2/jobid"; echo "L $1 $i"; return 0; fi
          [ -s "$2/submitting" ] || return 0
          p=; read -r p < "$2/submitting"
          if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then echo "P $1 $p"; fi
          return 0
        }
        """);
    for (int i = 0; i < dirs.size(); i++) {
      sb.append("l ").append(i).append(' ').append(quote(dirs.get(i))).append('\n');
    }
    return sb.toString();
  }
}
