package org.jobyard.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/jobyard engine} stops in order on SIGTERM, with a job running, and exits 0; a second
 * SIGTERM during that stop exits at once; SIGHUP reads the configuration again, and a broken one
 * is refused whole while the one in force stays.
 */
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

  @Test
  void aSecondSigtermWhileStoppingInOrderExitsAtOnce() throws Exception {
    var tarball = Tarball.unpack(Files.createDirectory(tmp.resolve("dist")));
    var work = Files.createDirectory(tmp.resolve("work"));
    // a cluster whose sbatch hangs: the engine's orderly stop waits for that call in flight
    var bin = Files.createDirectory(tmp.resolve("bin"));
    var started = tmp.resolve("sbatch-started");
    var sbatch = Files.writeString(bin.resolve("sbatch"),
        "#!/bin/sh\necho $$ > '" + started + "'\nexec sleep 120\n");
    sbatch.toFile().setExecutable(true);
    Files.writeString(tarball.home.resolve("conf/jobyard.yaml"), """
        default_clusters: [stuck]
        clusters:
          stuck: {backend: slurm, bin_dir: '%s'}
        """.formatted(bin));
    var daemon = DaemonIT.Daemon.start(tarball);
    Files.writeString(work.resolve("job.yaml"), "{name: never-submitted, executable: 'true'}\n");
    var submit = tarball.run(work, Duration.ofMinutes(1), "submit", "job.yaml");
    assertThat(submit.exitCode()).as(submit.toString()).isZero();
    await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(started));

    try {
      daemon.process().destroy(); // SIGTERM: stopping in order, waiting for sbatch
      await().atMost(Duration.ofSeconds(30)).until(() -> daemon.console()
          .contains("stopping in order"));
      assertThat(daemon.process().isAlive()).as("still waiting for the call in flight").isTrue();
      daemon.process().destroy(); // the second one

      assertThat(daemon.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(daemon.process().exitValue()).as(daemon.console()).isEqualTo(130);
      assertThat(daemon.console()).contains("second SIGTERM, exiting at once");
    } finally {
      daemon.process().destroyForcibly();
      ProcessHandle.of(Long.parseLong(Files.readString(started).strip()))
          .ifPresent(ProcessHandle::destroyForcibly); // the hanging sbatch
    }
  }

  @Test
  void sighupReadsTheConfigurationAgainAndKeepsTheOldOneWhenTheNewIsBroken() throws Exception {
    var tarball = Tarball.unpack(Files.createDirectory(tmp.resolve("dist")));
    var work = Files.createDirectory(tmp.resolve("work"));
    var conf = tarball.home.resolve("conf/jobyard.yaml");
    Files.writeString(conf, """
        default_clusters: [here]
        clusters:
          here: {backend: local}
        """);
    var daemon = DaemonIT.Daemon.start(tarball);
    try {
      Files.writeString(conf, """
          default_clusters: [here]
          clusters:
            here: {backend: local}
            added-by-hup: {backend: local, max_jobs: 3}
          """);
      hangUp(daemon);
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
          .until(() -> clusters(tarball, work).contains("added-by-hup"));
      Files.writeString(work.resolve("job.yaml"),
          "{name: on-the-new-one, executable: 'true', clusters: [added-by-hup]}\n");
      var submit = tarball.run(work, Duration.ofMinutes(1), "submit", "job.yaml");
      assertThat(submit.exitCode()).as(submit.toString()).isZero();

      Files.writeString(conf, "clusters: [this is: not a mapping\n");
      hangUp(daemon);
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
          .until(() -> daemon.console()
              .contains("reload refused, the configuration in force stays"));
      assertThat(daemon.process().isAlive()).as(daemon.console()).isTrue();
      assertThat(clusters(tarball, work)).contains("here", "added-by-hup");
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
          .until(() -> tarball.run(work, Duration.ofMinutes(1), "ps", "--state", "succeeded")
              .stdout().contains("on-the-new-one"));
    } finally {
      daemon.stop();
    }
  }

  private static void hangUp(DaemonIT.Daemon daemon) throws Exception {
    var kill = new ProcessBuilder("kill", "-HUP", Long.toString(daemon.process().pid())).start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
  }

  private static String clusters(Tarball tarball, Path work) throws Exception {
    var backends = tarball.run(work, Duration.ofMinutes(1), "backends", "-o", "json");
    assertThat(backends.exitCode()).as(backends.toString()).isZero();
    return backends.stdout();
  }
}
