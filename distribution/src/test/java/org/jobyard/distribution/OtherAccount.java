package org.jobyard.distribution;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jobyard.testkit.Testbed;

/**
 * Runs the tarball's {@code bin/jobyard} as the non-root OS account {@code jobyard} (made by the
 * testbed's sshd set-up), with a home folder of its own under the test's folder and a clean
 * environment: what a user of a shared, root-owned install has.
 *
 * @param home the account's {@code HOME} for these runs
 * @param work a folder the account owns, to run in
 */
record OtherAccount(Tarball tarball, Path home, Path work) {
  static final String NAME = "jobyard";

  /** Skips the test where no such account exists or this JVM cannot switch to it. */
  static OtherAccount prepare(Path tmp, Tarball tarball) throws IOException {
    Testbed.require(Testbed.SSH);
    Testbed.requireThat("root".equals(System.getProperty("user.name")),
        "running bin/jobyard as another account needs root");
    for (var dir : List.of(tmp, tmp.resolve("dist"), tarball.home)) {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    var owner = tmp.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(NAME);
    var home = Files.createDirectory(tmp.resolve("home-" + NAME));
    var work = tarball.work != null ? tarball.work : Files.createDirectory(tmp.resolve("work"));
    for (var dir : List.of(home, work)) {
      Files.setOwner(dir, owner);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    return new OtherAccount(tarball, home, work);
  }

  /** Where a read-only install keeps this account's state by default. */
  Path state() {
    return home.resolve(".local/state/jobyard");
  }

  Tarball.Result run(Duration timeout, String... args) throws Exception {
    var out = Files.createTempFile("jobyard-out", ".txt");
    var err = Files.createTempFile("jobyard-err", ".txt");
    var p = builder(args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      throw new AssertionError("bin/jobyard " + String.join(" ", args) + " as " + NAME
          + " did not finish within " + timeout + "\n--- stderr\n" + Tarball.read(err));
    }
    return new Tarball.Result(p.exitValue(), Tarball.read(out), Tarball.read(err));
  }

  /** Starts {@code bin/jobyard} with its output going to {@code log}. */
  Process start(Path log, String... args) throws IOException {
    return builder(args).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private ProcessBuilder builder(String... args) {
    var cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + NAME, "--regid=" + NAME,
        "--clear-groups", tarball.home.resolve("bin/jobyard").toString()));
    cmd.addAll(List.of(args));
    var pb = new ProcessBuilder(cmd).directory(work.toFile());
    // nothing of the test runner's own set-up (JOBYARD_*, XDG_*) leaks into the account's run
    pb.environment().clear();
    pb.environment().put("PATH", "/usr/local/bin:/usr/bin:/bin");
    pb.environment().put("HOME", home.toString());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    return pb;
  }
}
