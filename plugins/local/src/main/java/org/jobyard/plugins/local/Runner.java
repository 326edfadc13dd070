package org.jobyard.plugins.local;

import static org.jobyard.api.ShellQuoting.quote;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The long-lived runner of a job folder root ({@code runner.sh}, one bash process started detached
 * with {@code setsid}, so it outlives the engine): it forks only the payload of each job, records
 * its pid and exit code with builtins, and runs at most {@code slots} jobs at once, so that the
 * engine can hand jobs over ahead of free slots without a process spawn per submit.
 *
 * <p>Layout under the root {@code W}: {@code W/<tag>/run.sh} (the job, {@link
 * WrapperScript#forRunner}), {@code W/.spool/<sequence>} (tags handed over, one a line), {@code
 * W/.runner/} (the script, {@code pid}, {@code slots}). In a job folder the runner writes {@code
 * started} (its claim, created with O_EXCL: no job runs twice), {@code pid} ({@code <pid> <start
 * time> <runner pid>}) and {@code exitcode}, then {@code W/.done/<tag>}.
 */
final class Runner {
  static final String JOB = "run.sh";
  static final String STARTED = "started";
  static final String SPOOL = ".spool";
  static final String HOME = ".runner";
  static final String SCRIPT = HOME + "/runner.sh";

  /** Seconds a runner with nothing to do waits before it leaves. */
  static final int IDLE_SECONDS = 60;

  static final String TEXT = load();

  /** The Java runner ({@link JobRunner}) compiled for Java 11, Base64: shipped to the host. */
  static final String JAVA_CLASS = loadClass();

  /** Where the Java runner's class path is, under the root: its command line names it. */
  static final String JAVA_CLASS_PATH = HOME + "/jvm";

  /** How the Java runner's JVM is started: small, and quick to start rather than to peak. */
  static final String JAVA_OPTIONS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx64m -Xss512k "
      + "-XX:-UsePerfData";

  private static final AtomicLong SEQUENCE = new AtomicLong();

  private Runner() {}

  private static String load() {
    try (var in = Runner.class.getResourceAsStream("runner.sh")) {
      if (in == null) {
        throw new IllegalStateException("runner.sh is missing from the local plugin's jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String loadClass() {
    try (var in = Runner.class.getResourceAsStream(
        "/runner/org/jobyard/plugins/local/JobRunner.class")) {
      if (in == null) {
        throw new IllegalStateException("the Java runner's class is missing from the local "
            + "plugin's jar (built by the compiler execution runner-for-java-11)");
      }
      return java.util.Base64.getEncoder().encodeToString(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A spool file name that sorts after every earlier one, also across engine restarts. */
  static String spoolName() {
    return String.format("%016d%06d", System.currentTimeMillis(),
        SEQUENCE.getAndIncrement() % 1_000_000);
  }

  /**
   * A shell snippet (with {@code $W} set to the absolute root) that starts a runner unless one is
   * alive. It prints one line, {@code R java <version>} or {@code R bash <why not Java>}, when it
   * starts one. Exit 3 when the host has no bash or setsid. Script and class files are replaced
   * by a rename, never rewritten in place: bash reads a running script as it goes.
   *
   * @param java whether the Java runner may be chosen (it is when the host has a Java 11+)
   */
  static String ensureScript(int slots, boolean java) {
    return "R=\"$W/" + HOME + "\"\n"
        + "mkdir -p -- \"$W/" + SPOOL + "\" \"$W/.done\" \"$R\" || exit 4\n"
        + "echo " + slots + " > \"$R/slots.$$\" && mv -f -- \"$R/slots.$$\" \"$R/slots\"\n"
        + "rp=; [ -s \"$R/pid\" ] && read -r rp < \"$R/pid\"\n"
        + "if [ -z \"$rp\" ] || ! runner_alive \"$rp\"; then\n"
        + "  command -v bash >/dev/null 2>&1 && command -v setsid >/dev/null 2>&1 \\\n"
        + "    || { echo 'the local runner needs bash and setsid on this host' >&2; exit 3; }\n"
        + "  [ -p \"$R/wake\" ] || mkfifo \"$R/wake\" || exit 4\n"
        + (java ? javaStart() : "  why='the setting runner is shell'\n")
        + "  if [ -n \"$why\" ]; then\n"
        + "    printf '%s' " + quote(TEXT) + " > \"$R/runner.sh.$$\" \\\n"
        + "      && mv -f -- \"$R/runner.sh.$$\" \"$R/runner.sh\" || exit 4\n"
        + "    setsid bash \"$R/runner.sh\" \"$W\" " + IDLE_SECONDS
        + " </dev/null >/dev/null 2>&1 &\n"
        + "    echo \"R bash $why\"\n"
        + "  fi\n"
        + "fi\n";
  }

  /** Starts the Java runner when the host has a Java 11+, else sets {@code why} it does not. */
  private static String javaStart() {
    var dir = "\"$W/" + JAVA_CLASS_PATH + "/org/jobyard/plugins/local\"";
    return "  why=; jv=\n"
        + "  if command -v java >/dev/null 2>&1; then\n"
        // the major version: "17.0.15" -> 17, "1.8.0_402" -> 1 (too old)
        + "    jv=$(java -version 2>&1 | sed -n '1s/^[^\"]*\"\\([0-9][0-9]*\\).*/\\1/p')\n"
        + "    [ -n \"$jv\" ] && [ \"$jv\" -ge 11 ] || why=\"no Java 11 or later (java is $jv)\"\n"
        + "  else why='no java on the PATH'; fi\n"
        + "  if [ -z \"$why\" ]; then\n"
        + "    mkdir -p -- " + dir + " || exit 4\n"
        + "    printf '%s' '" + JAVA_CLASS + "' | base64 -d > " + dir + "/JobRunner.class.$$ \\\n"
        + "      && mv -f -- " + dir + "/JobRunner.class.$$ " + dir + "/JobRunner.class \\\n"
        + "      || why='the Java runner could not be written (base64)'\n"
        + "  fi\n"
        + "  if [ -z \"$why\" ]; then\n"
        + "    JY_LC_ALL=\"${LC_ALL-}\" JY_LC_ALL_SET=\"${LC_ALL+1}\" LC_ALL=C.UTF-8 \\\n"
        + "      setsid java " + JAVA_OPTIONS + " -cp \"$W/" + JAVA_CLASS_PATH + "\" "
        + JobRunner.class.getName() + " \"$W\" " + IDLE_SECONDS
        + " </dev/null >/dev/null 2>>\"$R/jvm.log\" &\n"
        // its pid at once (setsid execs in place: $! is the JVM's): a JVM takes a second or more
        // to start, and a poll meanwhile must not take the root for one without a runner
        + "    echo $! > \"$R/pid\"\n"
        + "    echo \"R java $jv\"\n"
        + "  fi\n";
  }

  /** Whether pid $1 is a runner (its command line names a runner script). */
  static final String ALIVE_FUNCTION = """
      runner_alive() {
        [ -r "/proc/$1/cmdline" ] || return 1
        cl=; IFS= read -r cl < "/proc/$1/cmdline" 2>/dev/null
        case $cl in *"/%s/runner.sh"* | *"/%s"*JobRunner*) return 0 ;; esac
        return 1
      }
      """.formatted(HOME, JAVA_CLASS_PATH);

  /** Writes a spool file naming {@code tags}, atomically (a temporary name, then a rename). */
  static void spool(Path root, Collection<String> tags) throws IOException {
    var dir = root.resolve(SPOOL);
    var name = spoolName();
    var tmp = dir.resolve(name + ".tmp");
    Files.writeString(tmp, String.join("\n", tags) + "\n");
    move(tmp, dir.resolve(name));
  }

  /** Writes a file whole under its final name: readers never see it half written. */
  static void writeAtomically(Path file, String text) throws IOException {
    var tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text);
    move(tmp, file);
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Whether the root's runner is alive, read from /proc without a process. */
  static boolean alive(Path root) {
    var pid = firstLine(root.resolve(HOME).resolve("pid"));
    return pid != null && isRunner(pid.strip());
  }

  /** Whether {@code pid} is a runner process, of either kind (its command line says so). */
  static boolean isRunner(String pid) {
    return JobRunner.isRunner(pid);
  }

  /** Whether process {@code pid} exists and started at {@code startTime} ("-": unknown). */
  static boolean processAlive(String pid, String startTime) {
    if (!pid.matches("\\d+")) {
      return false;
    }
    try {
      var stat = Files.readString(Path.of("/proc", pid, "stat"));
      if (startTime.equals("-")) {
        return true;
      }
      var fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return fields.length > 19 && fields[19].equals(startTime);
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** The first line of a file, or null when it does not exist or is empty. */
  static String firstLine(Path file) {
    // asked first, because a missing file is the common case of a poll (no exit code yet), and
    // an exception per missing file cost more than the read itself
    return Files.exists(file) ? readFirstLine(file) : null;
  }

  private static String readFirstLine(Path file) {
    try {
      var bytes = Files.readAllBytes(file);
      if (bytes.length == 0) {
        return null;
      }
      var text = new String(bytes, StandardCharsets.UTF_8);
      int nl = text.indexOf('\n');
      return nl < 0 ? text : text.substring(0, nl);
    } catch (IOException e) {
      return null; // gone since it was listed: as if it never was
    }
  }

  /** The fields of a runner's pid line: pid, start time, runner pid. */
  record PidLine(String pid, String startTime, String runner) {
    static PidLine parse(String line) {
      var f = line.strip().split("\\s+");
      return new PidLine(f[0], f.length > 1 ? f[1] : null, f.length > 2 ? f[2] : null);
    }

    /** Written by the runner (else by the old per-job wrapper). */
    boolean byRunner() {
      return runner != null;
    }
  }

  /** Tags as spool lines, for a script: {@code printf} of one quoted word. */
  static String spoolScript(List<String> tags) {
    return "n=$(printf '000%s000%06d' \"$(date +%s)\" $(($$ % 1000000)))\n"
        + "printf '%s' " + quote(String.join("\n", tags) + "\n") + " > \"$W/" + SPOOL
        + "/$n.tmp\" && mv -f -- \"$W/" + SPOOL + "/$n.tmp\" \"$W/" + SPOOL + "/$n\" || exit 4\n";
  }

  /**
   * What a job folder says, read in Java (the folder is on the engine's filesystem): the same
   * facts, in the same order, as the poll script prints. Null when the folder does not exist.
   * {@code runners} remembers, for one poll, which runner pids are alive: every job of a root
   * names the same runner, so its /proc entry is read once per poll, not once per job.
   */
  static Listings.PollLine read(Path dir, Map<String, Boolean> runners) {
    // one listing of the folder says which files exist; only those are read
    var names = dir.toFile().list();
    if (names == null) {
      return null;
    }
    var have = Set.of(names);
    var ec = have.contains("exitcode") ? readFirstLine(dir.resolve("exitcode")) : null;
    boolean cancelled = have.contains("cancelled");
    boolean walltime = have.contains("walltime");
    if (ec != null && !ec.isBlank()) {
      return ended(dir, ec, cancelled, walltime);
    }
    var line = have.contains("pid") ? readFirstLine(dir.resolve("pid")) : null;
    if (line == null || line.isBlank()) {
      boolean queued = have.contains(JOB) && !have.contains(STARTED);
      return new Listings.PollLine(null, null, false, cancelled, walltime, queued, "");
    }
    var p = PidLine.parse(line);
    boolean alive = p.byRunner()
        ? runners.computeIfAbsent(p.runner(), Runner::isRunner)
            || processAlive(p.pid(), p.startTime())
        : wrapperAlive(p.pid(), dir.getFileName().toString());
    if (!alive) {
      // it may have ended since the listing: its exit code is read after the liveness check,
      // so an end recorded in between is seen as an end, never as a lost job
      ec = readFirstLine(dir.resolve("exitcode"));
      cancelled = Files.exists(dir.resolve("cancelled"));
      walltime = Files.exists(dir.resolve("walltime"));
      if (ec != null && !ec.isBlank()) {
        return ended(dir, ec, cancelled, walltime);
      }
    }
    return new Listings.PollLine(null, p.pid(), alive, cancelled, walltime, false, "");
  }

  /** An ended job: what happened is all a status needs (pid and liveness are not asked for). */
  private static Listings.PollLine ended(Path dir, String ec, boolean cancelled,
      boolean walltime) {
    var reason = firstLine(dir.resolve("reason")); // written before the exit code, if at all
    return new Listings.PollLine(ec.strip(), null, false, cancelled, walltime, false,
        reason == null ? "" : reason.strip());
  }

  /** The per-job wrapper's liveness: its command line names {@code <tag>/job.sh}. */
  private static boolean wrapperAlive(String pid, String tag) {
    if (!pid.matches("\\d+")) {
      return false;
    }
    try {
      var cl = new String(Files.readAllBytes(Path.of("/proc", pid, "cmdline")),
          StandardCharsets.UTF_8);
      return cl.contains("/" + tag + "/job.sh");
    } catch (IOException e) {
      return false;
    }
  }
}
