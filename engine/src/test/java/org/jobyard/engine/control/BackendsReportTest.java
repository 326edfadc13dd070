package org.jobyard.engine.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jobyard.api.Command;
import org.jobyard.engine.Engine;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.transport.ssh.SshStats;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code jobyard backends} reports of a cluster reached over SSH: its pool's figures. */
@Tag("testbed")
class BackendsReportTest {
  @TempDir Path home;

  @Test
  void aClusterBehindSshShowsItsPoolFigures() throws Exception {
    Testbed.require(Testbed.SSH);
    var conf = Files.writeString(home.resolve("jobyard.yaml"), """
        clusters:
          remote:
            backend: scripted
            transport: {type: ssh, host: '%s', port: %s, user: '%s', identity: '%s',
                        known_hosts: '%s', max_connections: 2}
        """.formatted(Testbed.get("SSH_HOST"), Testbed.get("SSH_PORT"), Testbed.get("SSH_USER"),
        Testbed.get("SSH_IDENTITY"), Testbed.get("SSH_KNOWN_HOSTS")));
    try (var engine = Engine.create(ConfigLoader.load(home, conf)).start()) {
      var transport = engine.clusters().getFirst().transport();
      assertThat(transport.run(Command.of("echo", "hi")).stdout()).isEqualTo("hi\n");

      @SuppressWarnings("unchecked")
      var clusters = (List<Map<String, Object>>) new JobControl(engine).backends().get("clusters");

      assertThat(clusters).singleElement().satisfies(c -> {
        assertThat(c.get("name")).isEqualTo("remote");
        assertThat(c.get("ssh")).isInstanceOfSatisfying(SshStats.class, s -> {
          assertThat(s.handshakes()).isEqualTo(1);
          assertThat(s.connectionsOpen()).isEqualTo(1);
          assertThat(s.channelsInUse()).isZero();
        });
      });
    }
  }
}
