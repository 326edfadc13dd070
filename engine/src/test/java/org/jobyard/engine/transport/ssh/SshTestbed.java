package org.jobyard.engine.transport.ssh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import org.jobyard.testkit.Testbed;

/** The testbed's sshd as {@link SshSettings}; skips the calling test when it is not running. */
final class SshTestbed {
  private SshTestbed() {}

  static SshSettings settings() {
    Testbed.require(Testbed.SSH);
    return new SshSettings(Testbed.get("SSH_HOST"), Integer.parseInt(Testbed.get("SSH_PORT")),
        Testbed.get("SSH_USER"), Path.of(Testbed.get("SSH_IDENTITY")),
        Path.of(Testbed.get("SSH_KNOWN_HOSTS")), 4, 0, Duration.ofSeconds(10),
        Duration.ofSeconds(15), Duration.ofMinutes(10), Duration.ofSeconds(60));
  }

  /**
   * A known_hosts file that vouches for the testbed's host keys under another port (a proxy in
   * front of sshd), written into {@code dir}.
   */
  static Path knownHostsForPort(Path dir, int port) throws IOException {
    var s = settings();
    var lines = new ArrayList<String>();
    for (var line : Files.readAllLines(s.knownHosts())) {
      var fields = line.split(" ", 2);
      if (fields.length == 2) {
        lines.add("[" + s.host() + "]:" + port + " " + fields[1]);
      }
    }
    var file = dir.resolve("ssh_known_hosts_proxy");
    Files.write(file, lines);
    return file;
  }
}
