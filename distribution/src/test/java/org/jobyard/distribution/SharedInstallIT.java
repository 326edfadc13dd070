package org.jobyard.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One read-only install shared by many users (issue 21): run by an ordinary account with no
 * configuration, every verb works and the account's state lands in its own state folder.
 */
class SharedInstallIT {
  static final Duration TIMEOUT = Duration.ofMinutes(2);

  @TempDir
  Path tmp;

  @Test
  void aReadOnlyInstallRunsForAnOrdinaryUserWithStateInTheUsersStateFolder() throws Exception {
    var tarball = Tarball.unpackWithWork(tmp);
    var user = OtherAccount.prepare(tmp, tarball);
    readOnly(tarball.home);
    Files.writeString(user.work().resolve("one.yaml"),
        "{name: one, executable: /bin/echo, arguments: [shared], stdout: one.out}\n");

    var config = user.run(TIMEOUT, "config");
    assertThat(config.exitCode()).as(config.toString()).isZero();
    assertThat(config.stdout()).contains("# state:         " + user.state())
        .contains("jdbc:h2:file:" + user.state().resolve("db/jobyard"));

    var run = user.run(TIMEOUT, "run", "--progress", "none", "one.yaml");
    assertThat(run.exitCode()).as(run.toString()).isZero();
    assertThat(run.stderr()).doesNotContain("\tat ").doesNotContain("Exception");
    assertThat(Files.readString(user.work().resolve("one.out"))).isEqualTo("shared\n");
    assertThat(user.state().resolve("db/jobyard.mv.db")).exists();
    assertThat(user.state().resolve("log/jobyard.log")).exists();
    assertThat(tarball.home.resolve("var")).doesNotExist();

    var log = tmp.resolve("engine.out");
    var engine = user.start(log, "engine");
    try {
      await().atMost(TIMEOUT).until(() -> Files.exists(user.state().resolve("run/engine.url")));
      var submit = user.run(TIMEOUT, "submit", "-o", "json", "one.yaml");
      assertThat(submit.exitCode()).as(submit.toString()).isZero();
      var id = new ObjectMapper().readTree(submit.stdout()).path("ids").path(0).asText();
      assertThat(id).as(submit.stdout()).startsWith("jy-");
      await().atMost(TIMEOUT).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> {
        var ps = user.run(TIMEOUT, "ps", "-o", "json", id);
        assertThat(ps.exitCode()).as(ps.toString()).isZero();
        assertThat(new ObjectMapper().readTree(ps.stdout()).path("jobs").path(0).path("state")
            .asText())
            .isEqualToIgnoringCase("succeeded");
      });
      var backends = user.run(TIMEOUT, "backends");
      assertThat(backends.exitCode()).as(backends.toString()).isZero();
      assertThat(backends.stdout()).contains("local");
    } finally {
      engine.destroy(); // SIGTERM: the engine stops in order and removes its run files
      assertThat(engine.waitFor(1, TimeUnit.MINUTES)).as(Files.readString(log)).isTrue();
    }
    assertThat(engine.exitValue()).as(Files.readString(log)).isZero();
    assertThat(user.state().resolve("run/engine.url")).doesNotExist();
    assertThat(tarball.home.resolve("var")).doesNotExist();
  }

  /** chmod -R a-w: the install as a site leaves it. */
  private static void readOnly(Path dir) throws Exception {
    var p = new ProcessBuilder("chmod", "-R", "a-w", dir.toString()).inheritIO().start();
    assertThat(p.waitFor()).isZero();
  }
}
