package org.jobyard.engine.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir
  Path home;

  @Test
  void defaultsToH2UnderVarAndOneLocalCluster() {
    var c = ConfigLoader.defaults(home);
    assertThat(c.database().url()).startsWith("jdbc:h2:file:").contains(home.resolve("var/db")
        .toString());
    assertThat(c.clusters()).containsOnlyKeys("local");
    assertThat(c.defaultClusters()).containsExactly("local");
  }

  @Test
  void readsClustersWithTransportsAndSettings() throws Exception {
    var f = home.resolve("c.yaml");
    Files.writeString(f, """
        engine: {poll_interval: 2s}
        default_clusters: [hpc]
        clusters:
          hpc:
            backend: slurm
            partition: debug
            poll_interval: 30s
            transport: {type: ssh, host: login, port: 2222, user: alice}
          local: {backend: local, slots: 3}
        """);
    var c = ConfigLoader.load(home, f);
    assertThat(c.engine().pollInterval()).isEqualTo(Duration.ofSeconds(2));
    var hpc = c.clusters().get("hpc");
    assertThat(hpc.transportType()).isEqualTo("ssh");
    assertThat(hpc.transport()).containsEntry("port", 2222);
    assertThat(hpc.settings()).containsEntry("partition", "debug").doesNotContainKey("transport");
    assertThat(hpc.pollInterval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.clusters().get("local").settings()).containsEntry("slots", "3");
  }

  @Test
  void namesTheBadSetting() throws Exception {
    var f = home.resolve("bad.yaml");
    Files.writeString(f, "clusters:\n  x: {backend: local, transport: {type: telnet}}\n");
    assertThatThrownBy(() -> ConfigLoader.load(home, f)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("clusters.x.transport.type").hasMessageContaining("telnet");
    Files.writeString(f, "engine: {poll_interval: often}\n");
    assertThatThrownBy(() -> ConfigLoader.load(home, f))
        .hasMessageContaining("engine.poll_interval").hasMessageContaining("often");
    Files.writeString(f, "default_clusters: [nowhere]\n");
    assertThatThrownBy(() -> ConfigLoader.load(home, f)).hasMessageContaining("nowhere");
    Files.writeString(f, "databse: {}\n");
    assertThatThrownBy(() -> ConfigLoader.load(home, f)).hasMessageContaining("databse");
  }

  @Test
  void readsAClustersPacingAndKeepsItFromTheBackend() throws Exception {
    var f = home.resolve("paced.yaml");
    Files.writeString(f, """
        clusters:
          hpc: {backend: slurm, submit_rate: 2.5, max_pending: 40, held_timeout: 2h,
                keep_sandbox: true, partition: debug}
          local: {backend: local}
        """);
    var c = ConfigLoader.load(home, f);
    var hpc = c.clusters().get("hpc");
    assertThat(hpc.policy()).isEqualTo(new ClusterConfig.Policy(Duration.ofHours(2), 2.5, 40,
        true));
    assertThat(hpc.settings()).containsOnlyKeys("partition");
    assertThat(c.clusters().get("local").policy()).isEqualTo(ClusterConfig.Policy.DEFAULT);
  }

  @Test
  void refusesABadPacingNamingTheSettingAndValue() throws Exception {
    var f = home.resolve("bad-pace.yaml");
    Files.writeString(f, "clusters:\n  x: {backend: local, submit_rate: 0}\n");
    assertThatThrownBy(() -> ConfigLoader.load(home, f)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("clusters.x.submit_rate").hasMessageContaining("'0'");
    Files.writeString(f, "clusters:\n  x: {backend: local, max_pending: -3}\n");
    assertThatThrownBy(() -> ConfigLoader.load(home, f))
        .hasMessageContaining("clusters.x.max_pending").hasMessageContaining("-3");
    Files.writeString(f, "clusters:\n  x: {backend: local, held_timeout: soon}\n");
    assertThatThrownBy(() -> ConfigLoader.load(home, f))
        .hasMessageContaining("clusters.x.held_timeout").hasMessageContaining("soon");
    Files.writeString(f, "clusters:\n  x: {backend: local, keep_sandbox: maybe}\n");
    assertThatThrownBy(() -> ConfigLoader.load(home, f))
        .hasMessageContaining("clusters.x.keep_sandbox");
  }

  @Test
  void readsDowntimeWindowsAndFairShares() throws Exception {
    var f = home.resolve("ops.yaml");
    Files.writeString(f, """
        fair_share: {shares: {alice: 3, bob: 0.5}, default: 2}
        clusters:
          hpc:
            backend: slurm
            downtime:
              - {from: 2026-12-01T08:00Z, to: '2026-12-01T12:30:00+01:00'}
        """);
    var c = ConfigLoader.load(home, f);
    assertThat(c.clusters().get("hpc").policy().downtime()).containsExactly(
        new ClusterConfig.Downtime(java.time.Instant.parse("2026-12-01T08:00:00Z"),
            java.time.Instant.parse("2026-12-01T11:30:00Z")));
    assertThat(c.clusters().get("hpc").settings()).doesNotContainKey("downtime");
    assertThat(c.fairShare().of("alice")).isEqualTo(3);
    assertThat(c.fairShare().of("bob")).isEqualTo(0.5);
    assertThat(c.fairShare().of("carol")).isEqualTo(2);
    assertThat(ConfigLoader.defaults(home).fairShare().of("anyone")).isEqualTo(1);
  }

  @Test
  void refusesABadDowntimeOrShareNamingTheSettingAndValue() throws Exception {
    var f = home.resolve("bad-ops.yaml");
    Files.writeString(f, "clusters:\n  x: {backend: local, downtime: [{from: tomorrow, "
        + "to: 2026-12-01T08:00Z}]}\n");
    assertThatThrownBy(() -> ConfigLoader.load(home, f)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("clusters.x.downtime[1].from").hasMessageContaining("'tomorrow'");
    Files.writeString(f, "clusters:\n  x: {backend: local, downtime: [{from: 2026-12-01T09:00Z, "
        + "to: 2026-12-01T08:00Z}]}\n");
    assertThatThrownBy(() -> ConfigLoader.load(home, f))
        .hasMessageContaining("clusters.x.downtime[1]").hasMessageContaining("must be after");
    Files.writeString(f, "clusters:\n  x: {backend: local, downtime: [{from: 2026-12-01T09:00"
        + "}]}\n");
    assertThatThrownBy(() -> ConfigLoader.load(home, f))
        .hasMessageContaining("clusters.x.downtime[1].from").hasMessageContaining("zone");
    Files.writeString(f, "fair_share: {shares: {bob: 0}}\n");
    assertThatThrownBy(() -> ConfigLoader.load(home, f))
        .hasMessageContaining("fair_share.shares.bob").hasMessageContaining("'0'");
    Files.writeString(f, "fair_share: {share: {bob: 1}}\n");
    assertThatThrownBy(() -> ConfigLoader.load(home, f))
        .hasMessageContaining("fair_share").hasMessageContaining("share");
  }
}
