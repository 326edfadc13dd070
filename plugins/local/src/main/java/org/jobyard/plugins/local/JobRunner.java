package org.jobyard.plugins.local;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The local runner as one JVM per job folder root, the same contract as {@code runner.sh} (read
 * its header: spool files, the O_EXCL claim {@code started}, {@code pid} as {@code <pid> <start
 * time> <runner pid>}, {@code exitcode}, then {@code .done/<tag>}), without a fork of bash per
 * job: a job whose {@code run.sh} carries a {@code #jy-direct} line (one step, no walltime) is
 * started as {@code setsid <program> <args>} with its environment, folder and outputs set here,
 * so that per job there is one spawn and the payload's exec. Other jobs run their {@code run.sh}
 * in a bash that leads its own session, as the shell runner's subshell does.
 *
 * <p>This file is shipped as source and started with the JDK's source launcher on the execution
 * host ({@code java JobRunner.java <root> <idle seconds>}), so it uses only the JDK and language
 * features of Java 11, the oldest JVM the starter accepts.
 */
final class JobRunner {
  static final String DIRECT = "#jy-direct ";

  private final Path root;
  private final Path home;
  private final int idleSeconds;
  private final String self = Long.toString(ProcessHandle.current().pid());
  private final String setsid;
  private final Map<String, String> environment = jobEnvironment(System.getenv());
  private final ArrayDeque<String> queue = new ArrayDeque<>();
  private final Map<Path, Integer> spooled = new HashMap<>(); // spool file -> tags left to start
  private final Map<Long, String> running = new HashMap<>(); // pid -> tag
  private final LinkedBlockingQueue<long[]> ended = new LinkedBlockingQueue<>(); // {pid, code}
  private int slots = 1;
  private Process killer;
  private Writer killerInput;

  private JobRunner(Path root, int idleSeconds, String setsid) {
    this.root = root;
    this.home = root.resolve(".runner");
    this.idleSeconds = idleSeconds;
    this.setsid = setsid;
  }

  public static void main(String[] args) throws Exception {
    var root = Path.of(args[0]).toAbsolutePath().normalize();
    int idle = args.length > 1 ? Integer.parseInt(args[1]) : 60;
    // a root being removed (its spool folder gone) gets no runner
    if (!Files.isDirectory(root.resolve(".spool"))) {
      return;
    }
    var setsid = onPath("setsid");
    if (setsid == null) {
      System.err.println("the local runner needs setsid on this host");
      System.exit(3);
    }
    var runner = new JobRunner(root, idle, setsid);
    if (!runner.claimRunnerPid()) {
      return;
    }
    runner.run();
    System.exit(0);
  }

  /**
   * The environment jobs start from: the runner's, with the {@code LC_ALL} it was started with.
   * Its starter sets {@code LC_ALL=C.UTF-8} for the JVM alone (under a POSIX locale the JVM would
   * turn non-ASCII file names and arguments into '?'), and passes the job's own in {@code
   * JY_LC_ALL} ({@code JY_LC_ALL_SET=1} when it was set).
   */
  static Map<String, String> jobEnvironment(Map<String, String> own) {
    var env = new HashMap<>(own);
    var saved = env.remove("JY_LC_ALL");
    var wasSet = env.remove("JY_LC_ALL_SET");
    if (wasSet != null) {
      if (wasSet.equals("1")) {
        env.put("LC_ALL", saved == null ? "" : saved);
      } else {
        env.remove("LC_ALL");
      }
    }
    return env;
  }

  private static String onPath(String name) {
    for (var dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      var f = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isExecutable(f) && !Files.isDirectory(f)) {
        return f.toString();
      }
    }
    return null;
  }

  /** One runner per root: a second one that finds the first alive leaves. */
  private boolean claimRunnerPid() throws IOException {
    var pidFile = home.resolve("pid");
    try {
      Files.writeString(pidFile, self + "\n", StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
      return true;
    } catch (FileAlreadyExistsException e) {
      var other = firstLine(pidFile);
      if (other != null && !other.strip().equals(self) && isRunner(other.strip())) {
        return false;
      }
      Files.writeString(pidFile, self + "\n");
      return true;
    }
  }

  /** Whether {@code pid} is a runner of either kind (its command line names a runner file). */
  static boolean isRunner(String pid) {
    if (!pid.matches("\\d+")) {
      return false;
    }
    try {
      var args = new String(Files.readAllBytes(Path.of("/proc", pid, "cmdline")),
          StandardCharsets.UTF_8).split("\0");
      for (var a : args) {
        if (a.endsWith("/.runner/runner.sh") || a.endsWith("/.runner/jvm")) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      return false;
    }
  }

  private void run() throws Exception {
    readSlots();
    // jobs handed over but never spooled (the engine stopped in between) or spooled to a runner
    // that stopped before it started them: their folders say so
    try (var dirs = Files.newDirectoryStream(root)) {
      for (var d : dirs) {
        if (Files.isRegularFile(d.resolve("run.sh")) && !Files.exists(d.resolve("started"))) {
          queue.add(d.getFileName().toString());
        }
      }
    }
    long quiet = System.nanoTime();
    scan();
    while (true) {
      while (running.size() < slots && !queue.isEmpty()) {
        var tag = queue.poll();
        try {
          start(tag);
        } catch (IOException | RuntimeException e) {
          // its folder went away or the disk is full: the engine sees the job as it was left
          System.err.println("job " + tag + ": " + e);
        }
      }
      if (queue.isEmpty()) {
        tidy();
      }
      boolean recent = System.nanoTime() - quiet < TimeUnit.SECONDS.toNanos(2);
      var end = ended.poll(running.isEmpty() && !recent ? 100 : 5, TimeUnit.MILLISECONDS);
      if (end != null) {
        for (; end != null; end = ended.poll()) {
          try {
            finished(end);
          } catch (IOException | RuntimeException e) {
            System.err.println("process " + end[0] + ": " + e);
          }
        }
        quiet = System.nanoTime();
        if (queue.isEmpty()) {
          scan();
        }
        continue;
      }
      if (scan() > 0) {
        quiet = System.nanoTime();
        continue;
      }
      if (!running.isEmpty()) {
        quiet = System.nanoTime();
      }
      if (!Files.isDirectory(root.resolve(".spool"))) {
        return;
      }
      if (System.nanoTime() - quiet >= TimeUnit.SECONDS.toNanos(idleSeconds)) {
        // leave, unless a hand-over came in meanwhile: the pid file goes first, so a submit that
        // finds no runner starts one, and one that found this runner has spooled before this scan
        var pidFile = home.resolve("pid");
        var owner = firstLine(pidFile);
        if (owner != null && owner.strip().equals(self)) {
          Files.deleteIfExists(pidFile);
        }
        if (scan() == 0) {
          return;
        }
        Files.writeString(pidFile, self + "\n");
        quiet = System.nanoTime();
      }
    }
  }

  private void readSlots() {
    var line = firstLine(home.resolve("slots"));
    try {
      slots = Math.max(1, Integer.parseInt(line == null ? "1" : line.strip()));
    } catch (NumberFormatException e) {
      slots = 1;
    }
  }

  /** Reads spool files not read before, in name order; returns how many tags it queued. */
  private int scan() throws IOException {
    String[] names = root.resolve(".spool").toFile().list();
    if (names == null) {
      return 0;
    }
    Arrays.sort(names);
    int found = 0;
    for (var name : names) {
      var f = root.resolve(".spool").resolve(name);
      if (name.endsWith(".tmp") || spooled.containsKey(f)) {
        continue;
      }
      List<String> lines;
      try {
        lines = Files.readAllLines(f, StandardCharsets.UTF_8);
      } catch (IOException e) {
        continue; // removed meanwhile
      }
      int n = 0;
      for (var t : lines) {
        if (!t.isEmpty() && !t.contains("/") && !t.startsWith(".")) {
          queue.add(t);
          n++;
        }
      }
      spooled.put(f, n);
      found += n;
    }
    if (found > 0) {
      readSlots();
    }
    return found;
  }

  /** Removes spool files whose every tag has been taken from the queue. */
  private void tidy() {
    for (var it = spooled.keySet().iterator(); it.hasNext(); ) {
      var f = it.next();
      try {
        Files.deleteIfExists(f);
      } catch (IOException e) {
        continue; // tried again at the next tidy
      }
      it.remove();
    }
  }

  private void start(String tag) throws IOException {
    var d = root.resolve(tag);
    var script = d.resolve("run.sh");
    if (!Files.isRegularFile(script)) {
      return;
    }
    try {
      Files.createFile(d.resolve("started")); // the claim: O_EXCL, so no job runs twice
    } catch (FileAlreadyExistsException e) {
      return;
    } catch (IOException e) {
      return; // folder gone
    }
    if (Files.exists(d.resolve("cancelled"))) {
      // cancelled before it started: empty outputs in its folder, so collecting it finds them
      Files.write(d.resolve("stdout"), new byte[0]);
      Files.write(d.resolve("stderr"), new byte[0]);
      record(tag, 143);
      return;
    }
    Process p;
    try {
      var direct = direct(script);
      p = direct == null ? shell(d) : direct.start();
    } catch (IllegalArgumentException e) {
      Files.writeString(d.resolve("reason"), e.getMessage() + "\n");
      record(tag, 127);
      return;
    } catch (IOException e) {
      Files.writeString(d.resolve("reason"), "cannot start the job: " + e.getMessage() + "\n");
      record(tag, 127);
      return;
    }
    long pid = p.pid();
    Files.writeString(d.resolve("pid"), pid + " " + startTime(pid) + " " + self + "\n");
    // a cancel that came between the check above and the pid file did not see the pid: it is
    // seen here (the cancel writes its mark first, then reads the pid)
    if (Files.exists(d.resolve("cancelled"))) {
      killGroup(pid);
    }
    running.put(pid, tag);
    p.onExit().thenAccept(q -> ended.add(new long[] {q.pid(), q.exitValue()}));
  }

  private void finished(long[] end) throws IOException {
    var tag = running.remove(end[0]);
    if (tag == null) {
      return;
    }
    record(tag, (int) end[1]);
    killGroup(end[0]); // what the job left running in its group ends with it
  }

  /** The exit code, whole under its final name, then the mark the engine's watch sees. */
  private void record(String tag, int code) throws IOException {
    var file = root.resolve(tag).resolve("exitcode");
    var tmp = file.resolveSibling("exitcode.tmp");
    Files.writeString(tmp, code + "\n");
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    Files.write(root.resolve(".done").resolve(tag), new byte[0]);
  }

  /** Start time of a process (field 22 of /proc/<pid>/stat), or "-": with the pid, it names it. */
  static String startTime(long pid) {
    try {
      var stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      var fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return fields.length > 19 ? fields[19] : "-";
    } catch (IOException | RuntimeException e) {
      return "-";
    }
  }

  /**
   * TERMs the process group {@code pid} led. The JDK signals single processes only, so one bash
   * per runner, fed a line per group, does it with its builtin kill: no process per job.
   */
  private void killGroup(long pid) {
    for (int attempt = 0; attempt < 2; attempt++) {
      try {
        if (killer == null || !killer.isAlive()) {
          killer = new ProcessBuilder("bash", "-c",
              "while read -r p; do kill -TERM -- \"-$p\" 2>/dev/null; done")
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.DISCARD).start();
          killerInput = new OutputStreamWriter(killer.getOutputStream(), StandardCharsets.UTF_8);
        }
        killerInput.write(pid + "\n");
        killerInput.flush();
        return;
      } catch (IOException e) {
        killer = null; // it died: started again once
      }
    }
  }

  /** A job that needs a shell: its run.sh sourced by a bash that leads its own session. */
  private Process shell(Path d) throws IOException {
    var pb = new ProcessBuilder(setsid, "bash", "-c", "d=$1; g=$$; . \"$d/run.sh\"", "jy",
        d.toString());
    pb.environment().clear();
    pb.environment().putAll(environment);
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.DISCARD);
    return pb.start();
  }

  /**
   * The launch a {@code #jy-direct} line describes (a Base64 properties text: {@code argv.N},
   * {@code env.NAME}, {@code keep}, {@code dir}, {@code stdin}, {@code out}, {@code err}), or
   * null when run.sh has none.
   */
  private ProcessBuilder direct(Path script) throws IOException {
    String line = null;
    try (BufferedReader in = Files.newBufferedReader(script, StandardCharsets.UTF_8)) {
      for (int i = 0; i < 3; i++) {
        var l = in.readLine();
        if (l != null && l.startsWith(DIRECT)) {
          line = l;
          break;
        }
      }
    }
    if (line == null) {
      return null;
    }
    var spec = new Properties();
    spec.load(new ByteArrayInputStream(Base64.getDecoder().decode(line.substring(DIRECT.length())
        .strip())));
    var d = script.getParent();
    var out = output(d, spec.getProperty("out", ""), "stdout");
    var err = output(d, spec.getProperty("err", ""), "stderr");
    try {
      Files.write(out, new byte[0]);
      if (!err.equals(out)) {
        Files.write(err, new byte[0]);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot create the job's stdout or stderr file");
    }
    var cwd = d;
    var dir = spec.getProperty("dir", "");
    if (!dir.isEmpty()) {
      cwd = d.resolve(dir);
      if (!Files.isDirectory(cwd)) {
        throw new IllegalArgumentException("cannot change to working directory " + dir);
      }
    }
    int argc = Integer.parseInt(spec.getProperty("argc", "0"));
    var command = new ArrayList<String>(argc + 2);
    command.add(setsid);
    command.add("--");
    for (int i = 0; i < argc; i++) {
      command.add(spec.getProperty("argv." + i));
    }
    var pb = new ProcessBuilder(command).directory(cwd.toFile());
    var env = pb.environment();
    env.clear();
    env.putAll(environment);
    var keep = spec.getProperty("keep");
    if (keep != null) {
      var kept = Pattern.compile(keep.replace("*", "[A-Za-z0-9_]*"));
      env.keySet().removeIf(name -> !kept.matcher(name).matches());
    }
    var own = new TreeMap<String, String>();
    for (var name : spec.stringPropertyNames()) {
      if (name.startsWith("env.")) {
        own.put(name.substring(4), spec.getProperty(name));
      }
    }
    env.putAll(own);
    env.put("PWD", cwd.toString()); // as a shell that changed to the folder would set it
    var stdin = spec.getProperty("stdin");
    if (stdin != null) {
      var f = cwd.resolve(stdin).toFile();
      if (!f.canRead()) {
        throw new IllegalArgumentException("cannot read the standard input file " + stdin);
      }
      pb.redirectInput(ProcessBuilder.Redirect.from(f));
    } else {
      pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    }
    pb.redirectOutput(out.toFile());
    if (err.equals(out)) {
      pb.redirectErrorStream(true);
    } else {
      pb.redirectError(err.toFile());
    }
    return pb;
  }

  private static Path output(Path d, String path, String name) {
    return path.isEmpty() ? d.resolve(name) : d.resolve(path);
  }

  private static String firstLine(Path file) {
    try {
      var lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      return lines.isEmpty() ? null : lines.get(0);
    } catch (IOException e) {
      return null;
    }
  }
}
