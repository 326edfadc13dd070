package org.jobyard.engine.reload;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.config.EngineConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigChangeTest {
  @TempDir
  Path home;

  EngineConfig read(String yaml) throws Exception {
    var f = Files.writeString(home.resolve("c.yaml"), yaml);
    return ConfigLoader.load(home, f);
  }

  static final String BASE = """
      default_clusters: [a]
      clusters:
        a: {backend: local, max_jobs: 2}
        b: {backend: slurm, partition: debug}
      """;

  @Test
  void findsClustersAddedRemovedAndRetunedAndSharesChanged() throws Exception {
    var change = ConfigChange.between(read(BASE), read("""
        default_clusters: [a]
        fair_share: {shares: {alice: 2}}
        clusters:
          a: {backend: local, max_jobs: 5, submit_rate: 2}
          c: {backend: local}
        """));
    assertThat(change.refused()).isEmpty();
    assertThat(change.describe()).containsExactly("added cluster 'c' (local)",
        "removed cluster 'b'", "retuned cluster 'a'", "fair shares changed");
    assertThat(change.restart()).isEmpty();
  }

  @Test
  void nothingChangedIsNoChange() throws Exception {
    var change = ConfigChange.between(read(BASE), read(BASE));
    assertThat(change.describe()).isEmpty();
    assertThat(change.refused()).isEmpty();
    assertThat(change.restart()).isEmpty();
  }

  @Test
  void refusesABackendChangeTheStoreAndRemovingADefaultCluster() throws Exception {
    var change = ConfigChange.between(read(BASE), read("""
        database: {url: 'jdbc:h2:mem:other'}
        default_clusters: [b]
        clusters:
          b: {backend: slurm, partition: long}
        """));
    assertThat(change.refused()).hasSize(3);
    assertThat(String.join("\n", change.refused()))
        .contains("clusters.b: its backend, transport or backend settings changed")
        .contains("database: the store cannot change")
        .contains("clusters.a: cannot be removed while it is one of the running engine's "
            + "default_clusters [a]");
    assertThat(change.restart()).containsExactly("default_clusters");
  }

  @Test
  void settingsOnlyAStartTakesAreNamedForTheNextStart() throws Exception {
    var change = ConfigChange.between(read(BASE), read(BASE + """
        engine: {poll_interval: 1s}
        metrics: {allow: [10.0.0.0/8]}
        """));
    assertThat(change.refused()).isEmpty();
    assertThat(change.restart()).containsExactly("engine", "metrics");
  }
}
