package org.jobyard.engine.transport.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.jobyard.api.Command;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.TransportException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Two clusters on one SSH host and account, against the testbed's real sshd. */
@Tag("testbed")
class SshPoolsTest {

  @Test
  void twoClustersOnOneHostShareOnePoolThatClosesWithTheLastOfThem() throws Exception {
    var settings = SshTestbed.settings();
    var pools = new SshPools();
    var first = pools.open("slurm-debug", settings);
    var second = pools.open("slurm-long", settings);
    try {
      assertThat(second).isSameAs(first);
      for (int i = 0; i < 20; i++) {
        assertThat(first.run(Command.of("echo", "a" + i)).stdout()).isEqualTo("a" + i + "\n");
        assertThat(second.run(Command.of("echo", "b" + i)).stdout()).isEqualTo("b" + i + "\n");
      }
      assertThat(first.stats().handshakes()).as("handshakes of both clusters together")
          .isBetween(1L, (long) settings.maxConnections());

      first.close(); // the first cluster closes: the other one still uses the pool
      assertThat(second.run(Command.of("echo", "still")).stdout()).isEqualTo("still\n");
    } finally {
      second.close();
    }
    assertThatThrownBy(() -> second.run(Command.of("true"))).isInstanceOf(TransportException.class);
  }

  @Test
  void aSecondClusterReachingTheSameAccountWithOtherSettingsIsRefusedByName() throws Exception {
    var settings = SshTestbed.settings();
    var pools = new SshPools();
    try (var first = pools.open("hpc", settings)) {
      var other = new SshSettings(settings.host(), settings.port(), settings.user(),
          settings.identity(), settings.knownHosts(), settings.maxConnections() + 1,
          settings.maxChannelsPerConnection(), settings.connectTimeout(),
          settings.keepAliveInterval(), settings.maxConnectionAge(), settings.commandTimeout());
      assertThatThrownBy(() -> pools.open("hpc-long", other))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("like cluster 'hpc'")
          .hasMessageContaining(settings.user() + "@" + settings.host());
      assertThat(first.run(Command.of("echo", "ok")).stdout()).isEqualTo("ok\n");
    }
  }
}
