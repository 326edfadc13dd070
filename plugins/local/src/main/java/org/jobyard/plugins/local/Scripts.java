package org.jobyard.plugins.local;

import static org.jobyard.api.ShellQuoting.quote;

import java.util.Collection;
import java.util.List;

/**
 * The shell scripts the local backend sends through its transport, one per batch whatever the
 * number of jobs. Each is plain POSIX sh read from standard input ({@code sh -s}), so it has no
 * command-line length limit and runs the same on this machine and over SSH. Each prints one line
 * per job, parsed by {@link Listings}. Only shell builtins run per job, except the job itself.
 */
final class Scripts {

  private Scripts() {}

  /**
   * One job to launch: its tag (folder name), the text of its {@code job.sh}, and the OS account
   * it runs as ({@link RunAs}; null for the engine's own).
   */
  record Launch(String tag, String wrapper, String account) {
    Launch(String tag, String wrapper) {
      this(tag, wrapper, null);
    }
  }

  /**
   * Hands a job folder ($2, created by root) to account $1 and launches it as that account:
   * every read and write in the folder from then on is the account's own, so a link it plants
   * there leads nowhere root could go. The work folder becomes traversable (not listable) and
   * the completion markers' folder writable by all, sticky like /tmp.
   */
  private static final String LAUNCH_AS = RunAs.SHELL_FUNCTION + """
      chmod 711 "$W" && chmod 1733 "$W/.done" || exit 4
      launch_as() {
        d="$W/$2"
        g=$(id -g -- "$1" 2>/dev/null) || { echo "E $2 no OS account '$1' on this host"; return; }
        chown -- "$1:$g" "$d" && chmod 700 "$d" || { echo "E $2 cannot give $d to $1"; return; }
        printf '%s' "$3" | as_user "$1" sh -c '
          d=$1
          if [ -s "$d/pid" ] || [ -e "$d/exitcode" ]; then
            p=; [ -s "$d/pid" ] && read -r p < "$d/pid"
            echo "J ${d##*/} ${p:--}"
            exit 0
          fi
          cat > "$d/job.sh" || { echo "E ${d##*/} cannot write $d/job.sh"; exit 0; }
          setsid sh "$d/job.sh" </dev/null >/dev/null 2>&1 &
          echo "J ${d##*/} $!"' sh "$d" || echo "E $2 cannot run as $1"
        started="$started $2"
      }
      """;

  /**
   * Whether a job's process ($1) still runs. With a start time ($3, from a runner's pid line) the
   * process must have started then, so a recycled pid is not mistaken for the job ("-": unknown,
   * the pid existing is enough). Without one (the per-job wrapper's pid file), its command line
   * must name {@code <tag>/job.sh} ($2). Zombies have an empty command line and count as ended.
   * Without /proc, {@code kill -0} is the best we can do.
   */
  private static final String ALIVE = Runner.ALIVE_FUNCTION + """
      alive() {
        if [ -n "$3" ]; then
          [ -r "/proc/$1/stat" ] || return 1
          [ "$3" = - ] && return 0
          s=; read -r s < "/proc/$1/stat" 2>/dev/null || return 1
          want=$3; s=${s##*) }
          set -- $s
          [ "${20}" = "$want" ]
          return
        fi
        if [ -r "/proc/$1/cmdline" ]; then
          cl=; IFS= read -r cl < "/proc/$1/cmdline" 2>/dev/null
          case $cl in *"/$2/job.sh"*) return 0 ;; esac
          return 1
        fi
        [ -d /proc/self ] && return 1
        kill -0 "$1" 2>/dev/null
      }
      """;

  /**
   * Hands jobs over to the folder root's {@link Runner}: creates the job folders (and the parent
   * folders of output files), writes each {@code run.sh}, names them in one spool file and starts
   * the runner unless it is alive. Prints {@code W <absolute workdir>}, then {@code J <tag> -}
   * per job handed over (or found handed over before: a repeated submit is harmless) or {@code E
   * <tag> <why>}. Only builtins run per job.
   */
  static String handOver(String workdir, Collection<String> extraDirs, List<Launch> launches,
      int slots, boolean java) {
    var sb = new StringBuilder(2048 + launches.size() * 600);
    sb.append("mkdir -p -- ").append(quote(workdir)).append(" || exit 4\n");
    sb.append("W=$(cd -- ").append(quote(workdir)).append(" && pwd) || exit 4\n");
    sb.append("mkdir -p -- \"$W/").append(Runner.SPOOL).append("\" \"$W/.done\" \"$W/")
        .append(Runner.HOME).append("\" || exit 4\n");
    sb.append("echo \"W $W\"\nok=\n");
    sb.append(Runner.ALIVE_FUNCTION).append("""
        h() {
          d="$W/$1"
          if [ -e "$d/started" ] || [ -s "$d/pid" ] || [ -e "$d/exitcode" ]; then
            ok="$ok $1"; return
          fi
          printf '%s' "$2" > "$d/run.sh" || { echo "E $1 cannot write $d/run.sh"; return; }
          ok="$ok $1"
        }
        """);
    mkdirs(sb, launches, extraDirs);
    var tags = new java.util.ArrayList<String>(launches.size());
    for (var l : launches) {
      sb.append("h ").append(l.tag()).append(' ').append(quote(l.wrapper())).append('\n');
      tags.add(l.tag());
    }
    sb.append(Runner.spoolScript(tags)).append(Runner.ensureScript(slots, java));
    sb.append("for t in $ok; do echo \"J $t -\"; done\n");
    return sb.toString();
  }

  /** {@code mkdir -p} of the job folders and extra folders, in chunks: one process for many. */
  private static void mkdirs(StringBuilder sb, List<Launch> launches,
      Collection<String> extraDirs) {
    final int chunk = 256;
    var dirs = new java.util.ArrayList<String>(launches.size() + extraDirs.size());
    for (var l : launches) {
      dirs.add("\"$W\"/" + l.tag());
    }
    for (var d : extraDirs) {
      dirs.add(quote(d));
    }
    for (int i = 0; i < dirs.size(); i += chunk) {
      sb.append("mkdir -p --");
      for (var d : dirs.subList(i, Math.min(dirs.size(), i + chunk))) {
        sb.append(' ').append(d);
      }
      sb.append('\n');
    }
  }

  /** Starts the runner of {@code workdir} (an absolute path) unless it is alive. */
  static String ensureRunner(String workdir, int slots, boolean java) {
    return "W=" + quote(workdir) + "\n" + Runner.ALIVE_FUNCTION
        + Runner.ensureScript(slots, java);
  }

  /** Names tags in a spool file again, for the runner of {@code workdir} (absolute). */
  static String spoolAgain(String workdir, List<String> tags) {
    return "W=" + quote(workdir) + "\n" + Runner.spoolScript(tags);
  }

  /**
   * Creates the job folders (and the parent folders of output files), writes each wrapper and
   * starts it detached in its own session. Prints {@code W <absolute workdir>}, then {@code J <tag>
   * <pid>} per started job or {@code E <tag> <why>}. A tag whose folder already holds a pid or an
   * exit code is not started again: a repeated submit of the same attempt is harmless.
   */
  static String submit(String workdir, Collection<String> extraDirs, List<Launch> launches) {
    var sb = new StringBuilder(256 + launches.size() * 600);
    sb.append("command -v setsid >/dev/null 2>&1 || { echo 'setsid is not installed on this host'")
        .append(" >&2; exit 3; }\n");
    sb.append("mkdir -p -- ").append(quote(workdir + "/.done")).append(" || exit 4\n");
    sb.append("W=$(cd -- ").append(quote(workdir)).append(" && pwd) || exit 4\n");
    sb.append("echo \"W $W\"\nstarted=\n");
    sb.append("""
        launch() {
          d="$W/$1"
          if [ -s "$d/pid" ] || [ -e "$d/exitcode" ]; then
            p=; [ -s "$d/pid" ] && read -r p < "$d/pid"
            echo "J $1 ${p:--}"
            return
          fi
          printf '%s' "$2" > "$d/job.sh" || { echo "E $1 cannot write $d/job.sh"; return; }
          setsid sh "$d/job.sh" </dev/null >/dev/null 2>&1 &
          echo "J $1 $!"
          started="$started $1"
        }
        """);
    mkdirs(sb, launches, extraDirs);
    if (launches.stream().anyMatch(l -> l.account() != null)) {
      sb.append(LAUNCH_AS);
    }
    for (var l : launches) {
      if (l.account() == null) {
        sb.append("launch ").append(l.tag());
      } else {
        sb.append("launch_as ").append(l.account()).append(' ').append(l.tag());
      }
      sb.append(' ').append(quote(l.wrapper())).append('\n');
    }
    // Answer only once every started wrapper has written its pid (its first act), so that a
    // lookup right after an accepted submit (an engine restarted at once) finds every job.
    sb.append("""
        for t in $started; do
          n=0
          while [ ! -s "$W/$t/pid" ] && [ ! -e "$W/$t/exitcode" ] && [ $n -lt 2000 ]; do
            sleep 0.005; n=$((n+1))
          done
        done
        """);
    return sb.toString();
  }

  /** Only creates job folders (before input files are uploaded into them). */
  static String prepare(String workdir, Collection<String> tags) {
    return prepare(workdir, tags, java.util.Map.of());
  }

  /** Creates job folders, each given to the OS account its job runs as ({@code accounts}). */
  static String prepare(String workdir, Collection<String> tags,
      java.util.Map<String, String> accounts) {
    var sb = new StringBuilder();
    sb.append("mkdir -p -- ").append(quote(workdir + "/.done")).append(" || exit 4\n");
    sb.append("W=$(cd -- ").append(quote(workdir)).append(" && pwd) || exit 4\n");
    sb.append("echo \"W $W\"\n");
    if (!accounts.isEmpty()) {
      sb.append("chmod 711 \"$W\" || exit 4\n");
    }
    for (var tag : tags) {
      sb.append("mkdir -p -- \"$W\"/").append(tag).append(" || exit 4\n");
      var account = accounts.get(tag);
      if (account != null) {
        sb.append("chown -- ").append(account).append(":\"$(id -g -- ").append(account)
            .append(")\" \"$W\"/").append(tag).append(" || exit 4\n");
      }
    }
    return sb.toString();
  }

  /**
   * Prints {@code R <0|1>} (whether the folder root's runner is alive; for the first folder's
   * root), then per folder {@code P <n> missing} when it does not exist, else {@code P <n>
   * <exitcode|-> <pid|-> <alive 0|1> <cancelled 0|1> <walltime 0|1> <queued 0|1> <reason>}.
   * Liveness is checked before the exit code is read: the exit code is written before the job
   * counts as ended (by the wrapper itself, or by its runner, which counts as the job being
   * alive until it has), so "not alive and no exit code" really means the process was lost.
   */
  static String poll(List<String> dirs) {
    var sb = new StringBuilder(512 + dirs.size() * 64);
    sb.append(ALIVE).append("""
        p() {
          d=$2
          if [ ! -d "$d" ]; then echo "P $1 missing"; return; fi
          pid=; st=; rp=; ec=; a=0; cn=0; wt=0; q=0; r=
          [ -f "$d/pid" ] && read -r pid st rp < "$d/pid"
          if [ -n "$rp" ] && runner_alive "$rp"; then a=1
          elif [ -n "$pid" ] && alive "$pid" "${d##*/}" "$st"; then a=1; fi
          [ -f "$d/exitcode" ] && read -r ec < "$d/exitcode"
          [ -e "$d/cancelled" ] && cn=1
          [ -e "$d/walltime" ] && wt=1
          [ -z "$pid" ] && [ -f "$d/run.sh" ] && [ ! -e "$d/started" ] && q=1
          [ -f "$d/reason" ] && read -r r < "$d/reason"
          printf 'P %s %s %s %s %s %s %s %s\\n' "$1" "${ec:--}" "${pid:--}" $a $cn $wt $q "$r"
        }
        """);
    if (!dirs.isEmpty()) {
      var root = JobFiles.parentOf(dirs.getFirst());
      sb.append("rp=; [ -s ").append(quote(root + "/" + Runner.HOME + "/pid"))
          .append(" ] && read -r rp < ").append(quote(root + "/" + Runner.HOME + "/pid"))
          .append("\nif [ -n \"$rp\" ] && runner_alive \"$rp\"; then echo 'R 1'; ")
          .append("else echo 'R 0'; fi\n");
    }
    for (int i = 0; i < dirs.size(); i++) {
      sb.append("p ").append(i).append(' ').append(quote(dirs.get(i))).append('\n');
    }
    return sb.toString();
  }

  /**
   * Marks each live job cancelled and TERMs its process group; a detached helper KILLs what is
   * still alive after the grace, so the caller does not wait. Ended or unknown jobs are skipped.
   */
  static String cancel(List<String> dirs, long graceSeconds) {
    var sb = new StringBuilder(512 + dirs.size() * 64);
    sb.append(ALIVE).append("""
        k=
        c() {
          d=$1
          [ -d "$d" ] || return 0
          [ -e "$d/exitcode" ] && return 0
          true > "$d/cancelled"
          pid=; st=; [ -f "$d/pid" ] && read -r pid st rest < "$d/pid"
          if [ -n "$pid" ] && alive "$pid" "${d##*/}" "$st"; then
            kill -TERM -"$pid" 2>/dev/null
            k="$k $pid:${d##*/}:${st:-}"
          fi
        }
        """);
    for (var d : dirs) {
      sb.append("c ").append(quote(d)).append('\n');
    }
    sb.append("[ -z \"$k\" ] && exit 0\n")
        .append("( sleep ").append(graceSeconds).append("\n  for e in $k; do\n")
        .append("    t=${e#*:}; alive \"${e%%:*}\" \"${t%%:*}\" \"${t#*:}\"")
        .append(" && kill -KILL -\"${e%%:*}\" 2>/dev/null\n")
        .append("  done ) </dev/null >/dev/null 2>&1 &\n")
        .append("exit 0\n");
    return sb.toString();
  }

  /**
   * Prints {@code L <n> <pid|-> <exitcode|->} for each folder holding a pid, an exit code or a
   * job handed over to the runner ({@code run.sh}): found, so never handed over again.
   */
  static String lookup(String workdir, List<String> tags) {
    var sb = new StringBuilder(256 + tags.size() * 48);
    sb.append("W=$(cd -- ").append(quote(workdir)).append(" 2>/dev/null && pwd) || exit 0\n")
        .append("echo \"W $W\"\n")
        .append("""
        l() {
          d="$W/$2"
          pid=; ec=
          [ -f "$d/pid" ] && read -r pid rest < "$d/pid"
          [ -f "$d/exitcode" ] && read -r ec < "$d/exitcode"
          if [ -n "$pid" ] || [ -n "$ec" ] || [ -f "$d/run.sh" ]; then
            echo "L $1 ${pid:--} ${ec:--}"
          fi
        }
        """);
    for (int i = 0; i < tags.size(); i++) {
      sb.append("l ").append(i).append(' ').append(tags.get(i)).append('\n');
    }
    return sb.toString();
  }
}
