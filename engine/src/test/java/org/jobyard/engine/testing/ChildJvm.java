package org.jobyard.engine.testing;

import static java.util.Objects.requireNonNull;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code main} of the test's own class path run in a JVM of its own, so that a test can kill
 * an engine for real ({@link #kill}: SIGKILL, no shutdown hook, no finally) and start another on
 * the same store. The child talks to the test through its standard output: {@link #await} reads
 * it line by line; its standard error goes to a file named in failures.
 */
public final class ChildJvm implements AutoCloseable {
  private final Process process;
  private final Path stderr;
  private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final List<String> seen = new ArrayList<>();

  private ChildJvm(Process process, Path stderr) {
    this.process = process;
    this.stderr = stderr;
    Thread.ofVirtual().start(() -> {
      try (var in = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          lines.add(line);
        }
      } catch (IOException e) {
        // the child is gone: await says so when the line it waits for never comes
      }
    });
  }

  /**
   * Starts {@code main} with {@code args} on the class path of this test run; the child inherits
   * the environment (the testbed's settings) and writes its standard error to {@code stderr}.
   */
  public static ChildJvm start(Class<?> main, Path stderr, String... args) throws IOException {
    var classPath = System.getProperty("surefire.test.class.path",
        System.getProperty("java.class.path"));
    var argv = new ArrayList<String>(List.of(Path.of(System.getProperty("java.home"), "bin",
        "java").toString(), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classPath,
        main.getName()));
    argv.addAll(List.of(args));
    var process = new ProcessBuilder(argv).redirectError(stderr.toFile()).start();
    return new ChildJvm(process, requireNonNull(stderr, "stderr is null"));
  }

  /**
   * Waits for a line of the child's output that matches {@code pattern}, skipping the others,
   * and returns the match; fails naming what the child said when it exits or takes longer.
   */
  public Matcher await(Pattern pattern, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      var line = lines.poll(Math.max(0, Math.min(left, TimeUnit.SECONDS.toNanos(1))),
          TimeUnit.NANOSECONDS);
      if (line != null) {
        seen.add(line);
        var m = pattern.matcher(line);
        if (m.matches()) {
          return m;
        }
      } else if (!process.isAlive() && lines.isEmpty() || left <= 0) {
        throw new AssertionError("the child JVM " + (process.isAlive() ? "printed no line "
            + "matching '" + pattern + "' within " + timeout : "exited (code "
            + process.exitValue() + ") before printing a line matching '" + pattern + "'")
            + "; its last output: " + seen.subList(Math.max(0, seen.size() - 20), seen.size())
            + "; its standard error is in " + stderr);
      }
    }
  }

  /** SIGKILL, and waits until the process is gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      throw new AssertionError("the child JVM " + process.pid() + " outlived SIGKILL for 60 s");
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
