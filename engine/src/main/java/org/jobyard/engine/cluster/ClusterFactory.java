package org.jobyard.engine.cluster;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.CredentialExpiry;
import org.jobyard.api.Http;
import org.jobyard.api.Requirement;
import org.jobyard.api.Settings;
import org.jobyard.api.Transport;
import org.jobyard.api.TransportException;
import org.jobyard.engine.config.ClusterConfig;
import org.jobyard.engine.config.ConfigException;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.manager.Cluster;
import org.jobyard.engine.plugin.PluginCalls;
import org.jobyard.engine.plugin.PluginRegistry;
import org.jobyard.engine.transport.NoTransport;
import org.jobyard.engine.transport.http.HttpFactory;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.engine.transport.ssh.SshPools;
import org.jobyard.engine.transport.ssh.SshSettings;

/**
 * Makes the configured clusters: the transport and HTTPS client its backend requires, its
 * secrets resolver, and the backend its plugin creates (called under the plugin's class loader).
 */
public final class ClusterFactory {
  private final EngineConfig config;
  private final PluginRegistry plugins;
  private final java.util.function.BiFunction<String, Backend, Backend> wrap;
  private final ClusterConditions conditions;
  /** One SSH pool per host and account, shared by every cluster reaching it. */
  private final SshPools pools = new SshPools();

  public ClusterFactory(EngineConfig config, PluginRegistry plugins) {
    this(config, plugins, (name, backend) -> backend, new ClusterConditions());
  }

  /**
   * @param wrap given each cluster's name and backend, returns the backend the engine calls
   *     (metrics time the calls there)
   * @param conditions where backends' credential expiries are reported
   */
  public ClusterFactory(EngineConfig config, PluginRegistry plugins,
      java.util.function.BiFunction<String, Backend, Backend> wrap,
      ClusterConditions conditions) {
    this.config = config;
    this.plugins = plugins;
    this.wrap = wrap;
    this.conditions = conditions;
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

  /** One cluster (a reload's new one), with the shares of the configuration given. */
  public Cluster create(ClusterConfig cc, EngineConfig in, Consumer<String> pollSoon) {
    var cluster = create(cc, pollSoon);
    cluster.fairShares(in.fairShare());
    return cluster;
  }

  private Cluster create(ClusterConfig cc, Consumer<String> pollSoon) {
    var where = "cluster '" + cc.name() + "'";
    var provider = plugins.provider(cc.backend()).orElseThrow(() -> new ConfigException(where
        + ": backend '" + cc.backend() + "' is not installed; available: "
        + plugins.loaded().stream().map(PluginRegistry.Loaded::name).toList()
        + (plugins.broken().isEmpty() ? "" : "; broken plugins: " + plugins.broken().stream()
            .map(b -> b.plugin() + " (" + b.error() + ")").toList())));
    java.util.Set<Requirement> requirements;
    try {
      requirements = java.util.Set.copyOf(provider.requirements());
    } catch (RuntimeException | LinkageError e) {
      throw new ConfigException(where + ": backend '" + cc.backend() + "' cannot say what it "
          + "requires: " + e, e);
    }
    var settings = new Settings(where, cc.settings());
    Transport transport = transport(cc, where, requirements);
    Path workDir = config.varDir().resolve("clusters").resolve(cc.name());
    java.net.http.HttpClient client = null;
    try {
      java.nio.file.Files.createDirectories(workDir);
      var secrets = new SecretResolver(settings, config.home(), System.getenv());
      Http http = null;
      if (requirements.contains(Requirement.HTTP)) {
        var built = HttpFactory.create(settings, secrets, config.home());
        http = built.http();
        client = http.client();
        built.tls().identity().ifPresent(id -> conditions.credentialExpires(cc.name(),
            new CredentialExpiry(id.source(), id.expires())));
      }
      var context = new BackendContext(cc.name(), settings,
          transport instanceof NoTransport ? null : transport, workDir, events(cc, pollSoon),
          http, secrets);
      var backend = wrap.apply(cc.name(), closing(PluginCalls.withContextLoader(
          PluginCalls.create(provider, context)), client));
      var interval = cc.pollInterval() != null ? cc.pollInterval()
          : config.engine().pollInterval();
      var cluster = new Cluster(cc.name(), cc.backend(), backend, transport, cc.maxJobs(),
          interval, cc.policy());
      cluster.fairShares(config.fairShare());
      return cluster;
    } catch (ConfigurationException e) {
      closeQuietly(transport, client);
      throw new ConfigException(e.getMessage(), e);
    } catch (java.io.IOException e) {
      closeQuietly(transport, client);
      throw new ConfigException(where + ": cannot create " + workDir + ": " + e.getMessage(), e);
    } catch (RuntimeException | LinkageError e) {
      closeQuietly(transport, client);
      throw new ConfigException(where + ": backend '" + cc.backend() + "' failed to start: " + e,
          e);
    }
  }

  private BackendContext.Events events(ClusterConfig cc, Consumer<String> pollSoon) {
    return new BackendContext.Events() {
      @Override
      public void pollSoon() {
        pollSoon.accept(cc.name());
      }

      @Override
      public void credentialExpires(CredentialExpiry expiry) {
        conditions.credentialExpires(cc.name(), expiry);
      }
    };
  }

  /** The backend, closing the cluster's HTTPS client after the backend itself. */
  private static Backend closing(Backend backend, java.net.http.HttpClient client) {
    if (client == null) {
      return backend;
    }
    return (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(),
        new Class<?>[] {Backend.class}, (proxy, method, args) -> {
          try {
            return method.invoke(backend, args);
          } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
          } finally {
            if (method.getName().equals("close") && method.getParameterCount() == 0) {
              client.close();
            }
          }
        });
  }

  /**
   * The transport the cluster gets: none when configured so or when its backend does not need
   * one and the configuration names none (never a silent local one); refused at start when the
   * backend needs one and the configuration says none.
   */
  private Transport transport(ClusterConfig cc, String where,
      java.util.Set<Requirement> requirements) {
    var needed = requirements.contains(Requirement.TRANSPORT);
    var type = cc.transportGiven() ? cc.transportType() : needed ? "local" : "none";
    if (type.equals("none")) {
      if (needed) {
        throw new ConfigException(where + ": backend '" + cc.backend() + "' runs commands on a "
            + "submit host and needs a transport, but the cluster has transport: none; give "
            + "transport: local or transport: {type: ssh, ...}");
      }
      return new NoTransport(cc.name());
    }
    return open(cc, where);
  }

  private Transport open(ClusterConfig cc, String where) {
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

  private static void closeQuietly(Transport t, java.net.http.HttpClient client) {
    if (client != null) {
      client.close();
    }
    if (t instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception ignored) {
        // already failing; the first error is the one to report
      }
    }
  }
}
