package org.jobyard.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/jobyard engine} stops in order on SIGTERM, with a job running, and exits 0. */
class DaemonSignalIT {
  @TempDir
  Path tmp;

  @Test
  void sigtermStopsTheEngineInOrderAndExitsZero() throws Exception {
    var tarball = Tarball.unpack(Files.createDirectory(tmp.resolve("dist")));
    var work = Files.createDirectory(tmp.resolve("work"));
    var daemon = DaemonIT.Daemon.start(tarball);
    Files.writeString(work.resolve("sleep.yaml"), """
        name: outlives-the-engine
        executable: /bin/sleep
        arguments: ["300"]
        """);
    var submit = tarball.run(work, Duration.ofMinutes(1), "submit", "sleep.yaml");
    assertThat(submit.exitCode()).as(submit.toString()).isZero();

    long started = System.nanoTime();
    daemon.process().destroy(); // SIGTERM
    assertThat(daemon.process().waitFor(30, TimeUnit.SECONDS))
        .as("the engine stops within 30 s of SIGTERM").isTrue();
    assertThat(daemon.process().exitValue()).as(daemon.console()).isZero();
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
    assertThat(daemon.console()).contains("engine stopped");
    assertThat(tarball.home.resolve("var/run/engine.url")).doesNotExist();
    assertThat(tarball.home.resolve("var/run/token")).doesNotExist();

    var after = tarball.run(work, Duration.ofMinutes(1), "ps");
    assertThat(after.exitCode()).as(after.toString()).isEqualTo(3);
    assertThat(after.stderr()).contains("no engine found");

    // the job outlived the engine, and the next engine picks it up
    var again = DaemonIT.Daemon.start(tarball);
    try {
      var ps = tarball.run(work, Duration.ofMinutes(1), "ps", "--state", "running");
      assertThat(ps.exitCode()).as(ps.toString()).isZero();
      assertThat(ps.stdout()).contains("outlives-the-engine");
      assertThat(tarball.run(work, Duration.ofMinutes(1), "kill", "--all").exitCode()).isZero();
    } finally {
      again.process().destroy();
      again.process().waitFor(30, TimeUnit.SECONDS);
    }
  }
}
