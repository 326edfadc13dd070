package org.jobyard.engine.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobStatus;
import org.jobyard.engine.cluster.ClusterFactory;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.manager.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plugin in its own folder finds its own classes and services through the thread's context
 * class loader during {@code create} and every backend call, whichever thread makes the call.
 */
class PluginContextLoaderTest {
  @TempDir Path home;

  @Test
  void aPluginSeesItsOwnLoaderAsContextLoaderInCreateAndInEveryCall() throws Exception {
    PluginJars.build(home.resolve("plugins/tccl"), TcclProbe.class,
        TcclProbe.Provider.class.getName() + "\n");
    var conf = Files.writeString(home.resolve("jobyard.yaml"), """
        clusters:
          p: {backend: tccl-probe}
        """);
    var registry = PluginRegistry.load(home.resolve("plugins"));
    assertThat(registry.broken()).isEmpty();

    // create throws when it runs under another loader, failing the start
    var clusters = new ClusterFactory(ConfigLoader.load(home, conf), registry).create(c -> { });
    try {
      var backend = clusters.getFirst().backend();
      var before = Thread.currentThread().getContextClassLoader();

      var status = backend.poll(List.of(new JobRef("j1", "1", Map.of()))).get("j1");
      var condition = backend.maintain().getFirst();

      var own = "own loader; Class.forName: same class; ServiceLoader: [tccl-probe]";
      assertThat(status).isInstanceOfSatisfying(JobStatus.Unknown.class, u ->
          assertThat(u.reason()).isEqualTo(own));
      assertThat(condition.message()).isEqualTo(own);
      assertThat(Thread.currentThread().getContextClassLoader()).as("restored after the call")
          .isSameAs(before);
    } finally {
      clusters.forEach(Cluster::close);
    }
  }
}
