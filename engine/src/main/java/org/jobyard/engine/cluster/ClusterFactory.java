package org.jobyard.engine.cluster;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.Settings;
import org.jobyard.api.Transport;
import org.jobyard.api.TransportException;
import org.jobyard.engine.config.ClusterConfig;
import org.jobyard.engine.config.ConfigException;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.manager.Cluster;
import org.jobyard.engine.plugin.PluginRegistry;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.engine.transport.ssh.SshPools;
import org.jobyard.engine.transport.ssh.SshSettings;

/** Makes the configured clusters: a transport each, and the backend its plugin creates. */
public final class ClusterFactory {
  private final EngineConfig config;
  private final PluginRegistry plugins;
  private final java.util.function.BiFunction<String, Backend, Backend> wrap;
  /** One SSH pool per host and account, shared by every cluster reaching it. */
  private final SshPools pools = new SshPools();

  public ClusterFactory(EngineConfig config, PluginRegistry plugins) {
    this(config, plugins, (name, backend) -> backend);
  }

  /**
   * @param wrap given each cluster's name and backend, returns the backend the engine calls
   *     (metrics time the calls there)
   */
  public ClusterFactory(EngineConfig config, PluginRegistry plugins,
      java.util.function.BiFunction<String, Backend, Backend> wrap) {
    this.config = config;
    this.plugins = plugins;
    this.wrap = wrap;
  }

  /**
   * Creates every cluster or none: a cluster whose backend is missing or whose settings are wrong
   * fails the engine's start with a message naming it.
   *
   * @param pollSoon called with a cluster's name when its backend asks for an early poll
   */
  public List<Cluster> create(Consumer<String> pollSoon) {
    var made = new ArrayList<Cluster>();
    try {
      for (var cc : config.clusters().values()) {
        made.add(create(cc, pollSoon));
      }
    } catch (RuntimeException e) {
      made.forEach(Cluster::close);
      throw e;
    }
    return made;
  }

  private Cluster create(ClusterConfig cc, Consumer<String> pollSoon) {
    var where = "cluster '" + cc.name() + "'";
    var provider = plugins.provider(cc.backend()).orElseThrow(() -> new ConfigException(where
        + ": backend '" + cc.backend() + "' is not installed; available: "
        + plugins.loaded().stream().map(PluginRegistry.Loaded::name).toList()
        + (plugins.broken().isEmpty() ? "" : "; broken plugins: " + plugins.broken().stream()
            .map(b -> b.plugin() + " (" + b.error() + ")").toList())));
    Transport transport = transport(cc, where);
    Path workDir = config.varDir().resolve("clusters").resolve(cc.name());
    try {
      java.nio.file.Files.createDirectories(workDir);
      var context = new BackendContext(cc.name(), new Settings(where, cc.settings()), transport,
          workDir, () -> pollSoon.accept(cc.name()));
      var backend = wrap.apply(cc.name(), provider.create(context));
      var interval = cc.pollInterval() != null ? cc.pollInterval()
          : config.engine().pollInterval();
      return new Cluster(cc.name(), cc.backend(), backend, transport, cc.maxJobs(), interval,
          cc.policy());
    } catch (ConfigurationException e) {
      closeQuietly(transport);
      throw new ConfigException(e.getMessage(), e);
    } catch (java.io.IOException e) {
      closeQuietly(transport);
      throw new ConfigException(where + ": cannot create " + workDir + ": " + e.getMessage(), e);
    } catch (RuntimeException | LinkageError e) {
      closeQuietly(transport);
      throw new ConfigException(where + ": backend '" + cc.backend() + "' failed to start: " + e,
          e);
    }
  }

  private Transport transport(ClusterConfig cc, String where) {
    return switch (cc.transportType()) {
      case "ssh" -> {
        try {
          var block = new java.util.LinkedHashMap<String, Object>(cc.transport());
          yield pools.open(cc.name(), SshSettings.fromMap(block));
        } catch (ConfigurationException e) {
          throw new ConfigException(where + ".transport: " + e.getMessage(), e);
        } catch (TransportException e) {
          throw new ConfigException(where + ".transport: " + e.getMessage(), e);
        }
      }
      default -> new LocalTransport();
    };
  }

  private static void closeQuietly(Transport t) {
    if (t instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception ignored) {
        // already failing; the first error is the one to report
      }
    }
  }
}
