package org.jobyard.engine.transport.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.Command;
import org.jobyard.api.TransportException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SSH as users have it, against the testbed's sshd: a key with a passphrase that only an
 * ssh-agent (started here) holds unlocked, and a ProxyJump through the same sshd to itself.
 */
@Tag("testbed")
class SshAgentAndJumpTest {
  static final String PASSPHRASE = "correct horse battery";
  @TempDir
  Path dir;
  Process agent;

  @AfterEach
  void stopAgent() throws Exception {
    if (agent != null) {
      agent.destroy();
      agent.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Runs a program to its end; fails the test with its output otherwise. */
  static void run(Map<String, String> env, String... command) throws Exception {
    var pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(env);
    var p = pb.start();
    var out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("%s timed out", List.of(command)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", List.of(command), out).isZero();
  }

  /** The testbed's key, copied and locked with a passphrase, added to a new agent. */
  Path agentHoldingALockedKey() throws Exception {
    var testbed = SshTestbed.settings();
    var key = dir.resolve("locked_ed25519");
    Files.copy(testbed.identity(), key);
    Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions
        .fromString("rw-------"));
    run(Map.of(), "ssh-keygen", "-q", "-p", "-f", key.toString(), "-P", "", "-N", PASSPHRASE);
    assertThat(Files.readString(key)).as("locked").contains("BEGIN OPENSSH PRIVATE KEY");
    var socket = dir.resolve("agent.sock");
    agent = new ProcessBuilder("ssh-agent", "-D", "-a", socket.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("agent.log").toFile()).start();
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(socket));
    var askpass = Files.writeString(dir.resolve("askpass.sh"), "#!/bin/sh\necho '" + PASSPHRASE
        + "'\n");
    askpass.toFile().setExecutable(true);
    run(Map.of("SSH_AUTH_SOCK", socket.toString(), "SSH_ASKPASS", askpass.toString(),
        "SSH_ASKPASS_REQUIRE", "force", "DISPLAY", ":0"), "ssh-add", key.toString());
    return socket;
  }

  static String echo(SshTransport t) throws Exception {
    var r = t.run(Command.of("echo", "through"));
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    return r.stdout().strip();
  }

  @Test
  void logsInWithAPassphraseKeyThatOnlyTheAgentHoldsUnlocked() throws Exception {
    var socket = agentHoldingALockedKey();
    var settings = SshTestbed.settings().withAgent(socket);
    assertThat(settings.identity()).isNull();
    try (var t = SshTransport.open(settings)) {
      assertThat(echo(t)).isEqualTo("through");
    }
    assertThatThrownBy(() -> SshTransport.open(SshTestbed.settings()
        .withAgent(dir.resolve("no-agent.sock")))).isInstanceOf(TransportException.class)
        .hasMessageContaining("no ssh-agent socket at");
  }

  @Test
  void jumpsThroughTheSshdToItselfWithTheAgentsKeyAndNamesAJumpHostThatIsDown()
      throws Exception {
    var socket = agentHoldingALockedKey();
    var direct = SshTestbed.settings().withAgent(socket);
    var jump = new SshSettings.Jump(direct.host(), direct.port(), direct.user());
    try (var t = SshTransport.open(direct.withJump(jump))) {
      assertThat(echo(t)).isEqualTo("through");
      assertThat(t.settings().describe()).contains(" via " + jump.describe());
    }
    // the jump is really taken: one that is down fails a target that is up
    var down = new SshSettings.Jump(direct.host(), 1, direct.user());
    try (var t = SshTransport.open(direct.withJump(down)
        .withConnectTimeout(Duration.ofSeconds(3)))) {
      assertThatThrownBy(() -> echo(t)).hasMessageContaining("cannot reach the jump host "
          + down.describe());
    }
  }
}
