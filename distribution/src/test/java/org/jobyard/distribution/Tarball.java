package org.jobyard.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The built tarball, unpacked into a folder, and a way to run its {@code bin/jobyard}. */
final class Tarball {
  final Path home;
  /** An empty folder to run in, beside the install ({@link #unpackWithWork}), else null. */
  final Path work;

  private Tarball(Path home, Path work) {
    this.home = home;
    this.work = work;
  }

  /** A test's usual start: the tarball under {@code tmp/dist}, an empty {@code tmp/work}. */
  static Tarball unpackWithWork(Path tmp) throws Exception {
    var t = unpack(Files.createDirectory(tmp.resolve("dist")));
    return new Tarball(t.home, Files.createDirectory(tmp.resolve("work")));
  }

  static Tarball unpack(Path into) throws Exception {
    var tarball = Path.of(System.getProperty("jobyard.tarball"));
    assertThat(tarball).as("the tarball is built by 'package' before integration tests").exists();
    var p = new ProcessBuilder("tar", "xzf", tarball.toString(), "-C", into.toString())
        .inheritIO().start();
    assertThat(p.waitFor()).isZero();
    try (var s = Files.list(into)) {
      return new Tarball(s.filter(Files::isDirectory).findFirst().orElseThrow(), null);
    }
  }

  record Result(int exitCode, String stdout, String stderr) {
    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
    }
  }

  Result run(Path workDir, Duration timeout, String... args) throws Exception {
    return run(workDir, timeout, Map.of(), args);
  }

  Result run(Path workDir, Duration timeout, Map<String, String> env, String... args)
      throws Exception {
    var cmd = new ArrayList<String>();
    cmd.add(home.resolve("bin/jobyard").toString());
    cmd.addAll(List.of(args));
    var out = Files.createTempFile("jobyard-out", ".txt");
    var err = Files.createTempFile("jobyard-err", ".txt");
    var pb = new ProcessBuilder(cmd).directory(workDir.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().putAll(env);
    var p = pb.start();
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      throw new AssertionError("bin/jobyard " + String.join(" ", args) + " did not finish within "
          + timeout + "\n--- stderr\n" + read(err));
    }
    return new Result(p.exitValue(), read(out), read(err));
  }

  /** Starts {@code bin/jobyard} with its stdout piped, for a test that reads it as it comes. */
  Process start(Path workDir, Map<String, String> env, String... args) throws IOException {
    var cmd = new ArrayList<String>();
    cmd.add(home.resolve("bin/jobyard").toString());
    cmd.addAll(List.of(args));
    var pb = new ProcessBuilder(cmd).directory(workDir.toFile())
        .redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().putAll(env);
    return pb.start();
  }

  static String read(Path p) throws IOException {
    return Files.readString(p, StandardCharsets.UTF_8);
  }
}
