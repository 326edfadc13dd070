package org.jobyard.engine;

import com.google.inject.Guice;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jobyard.engine.cluster.ClusterConditions;
import org.jobyard.engine.cluster.Maintenance;
import org.jobyard.engine.cluster.ClusterFactory;
import org.jobyard.engine.config.ConfigException;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.reload.Reloader;
import org.jobyard.engine.drain.Drains;
import org.jobyard.engine.manager.Cluster;
import org.jobyard.engine.manager.JobManager;
import org.jobyard.engine.metrics.EngineMetrics;
import org.jobyard.engine.plugin.PluginRegistry;
import org.jobyard.engine.service.Service;
import org.jobyard.engine.service.ServiceRuntime;
import org.jobyard.engine.store.Database;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running engine: store, job manager and clusters, supervised. Built by Guice from {@link
 * EngineModule}; {@link #start()} opens nothing that the constructor did not, and {@link #close()}
 * stops in order: the manager finishes its critical section and commits, then the store writer
 * drains, then clusters and the database close.
 */
public final class Engine implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Engine.class);

  /** The configuration in force: replaced by a reload (its restart-only parts kept). */
  private volatile EngineConfig config;
  private final Reloader reloader;
  private volatile java.util.function.Supplier<EngineConfig> source;
  private final Database database;
  private final JobStore store;
  private final StoreWriter writer;
  private final JobManager manager;
  private final PluginRegistry plugins;
  private final ServiceRuntime runtime;
  private final EngineMetrics metrics;
  private final ClusterConditions conditions;
  private final Maintenance maintenance;
  /** The clusters the engine started with (a reload adds and removes in the manager's map). */
  private final List<Cluster> startClusters;
  private final Drains drains;
  private final org.jobyard.engine.lease.Leases leases;
  private final CompletableFuture<String> fatal = new CompletableFuture<>();
  private volatile boolean closed;

  @jakarta.inject.Inject
  Engine(EngineConfig config, Database database, JobStore store, StoreWriter writer,
      JobManager manager, List<Cluster> clusters, PluginRegistry plugins, EngineMetrics metrics,
      ClusterConditions conditions, Drains drains, ClusterFactory factory,
      java.util.function.Consumer<String> pollSoon, org.jobyard.engine.lease.Leases leases) {
    this.drains = drains;
    this.leases = leases;
    this.config = config;
    this.database = database;
    this.store = store;
    this.writer = writer;
    this.manager = manager;
    this.startClusters = clusters;
    this.plugins = plugins;
    this.metrics = metrics;
    this.conditions = conditions;
    this.maintenance = new Maintenance(conditions);
    this.reloader = new Reloader(manager, drains, cc -> factory.create(cc, this.config,
        pollSoon), maintenance::start);
    this.source = () -> {
      throw new ConfigException("this engine was not started from a configuration file, so "
          + "there is nothing to read again");
    };
    this.runtime = new ServiceRuntime(5, Duration.ofMinutes(5), reason -> {
      LOG.error("stopping the engine: {}", reason);
      fatal.complete(reason);
    });
  }

  /** Wires an engine for the configuration; nothing runs until {@link #start()}. */
  public static Engine create(EngineConfig config) {
    org.jobyard.engine.security.PrivateFiles.secure(config.varDir());
    try {
      return Guice.createInjector(new EngineModule(config)).getInstance(Engine.class);
    } catch (com.google.inject.ProvisionException e) {
      // Guice wraps what a provider threw; callers want the engine's own error, with its message.
      if (e.getCause() instanceof RuntimeException r && e.getErrorMessages().size() == 1) {
        throw r;
      }
      throw e;
    }
  }

  /** Starts the services and waits until the manager has recovered the store's live jobs. */
  public Engine start() {
    // i18: one engine of several on the store: its lease first (every write checks it), then
    // the heartbeat that renews it, takes jobs over and carries out the others' commands
    leases.lease().ifPresent(l -> {
      l.register();
      runtime.start(new org.jobyard.engine.lease.LeaseService(l, manager, fatal::complete));
    });
    runtime.start(new Service() {
      @Override
      public String name() {
        return "store-writer";
      }

      @Override
      public void run() {
        writer.run();
      }

      @Override
      public void stop() {
        writer.stop();
      }
    });
    runtime.start(new Service() {
      @Override
      public String name() {
        return "job-manager";
      }

      @Override
      public void run() {
        manager.run();
      }

      @Override
      public void stop() {
        try {
          manager.stop().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
          LOG.warn("job manager did not stop in time: {}", e.toString());
        }
      }
    });
    try {
      CompletableFuture.anyOf(manager.whenReady(), fatal).get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      // a timeout: reported below with the same message as a fatal start
    }
    if (!manager.isReady()) {
      close();
      throw new IllegalStateException("the engine did not become ready: "
          + fatal.getNow("timed out recovering jobs from the store"));
    }
    metrics.watch(this);
    maintenance.start(startClusters);
    LOG.info("engine ready: clusters {}, store {}", clusters().stream().map(Cluster::name).toList(),
        config.database().url());
    return this;
  }

  public JobManager manager() {
    return manager;
  }

  public JobStore store() {
    return store;
  }

  public EngineConfig config() {
    return config;
  }

  public PluginRegistry plugins() {
    return plugins;
  }

  /** The clusters in force now (a reload may have added or removed some). */
  public List<Cluster> clusters() {
    return List.copyOf(manager.clusters().values());
  }

  /** Where {@link #reload()} reads the configuration again (the file the engine started from). */
  public void reloadFrom(java.util.function.Supplier<EngineConfig> newSource) {
    source = java.util.Objects.requireNonNull(newSource, "newSource is null");
  }

  /**
   * Reads the configuration again and takes it without stopping a job (see {@link Reloader}),
   * or refuses it whole ({@link ConfigException}), the configuration in force staying.
   */
  public Reloader.Result reload() {
    EngineConfig next;
    try {
      next = source.get();
    } catch (ConfigException e) {
      LOG.warn("reload refused, the configuration in force stays: {}", e.getMessage());
      throw new ConfigException("reload refused, the configuration in force stays: "
          + e.getMessage(), e);
    }
    synchronized (reloader) {
      var current = config;
      var result = reloader.reload(current, next);
      config = new EngineConfig(current.home(), current.database(), current.api(),
          current.engine(), next.clusters(), current.defaultClusters(), current.metrics(),
          current.state(), next.fairShare());
      return result;
    }
  }

  /** The store's connection pool (for the health report). */
  public Database.Pool storePool() {
    return database.pool();
  }

  /** Whether this engine shares its store with others, and where commands go (i18). */
  public org.jobyard.engine.lease.Leases leases() {
    return leases;
  }

  public EngineMetrics metrics() {
    return metrics;
  }

  /** The clusters' conditions and credential expiries, as backends report them. */
  public ClusterConditions conditions() {
    return conditions;
  }

  /** Drained clusters and downtime windows. */
  public Drains drains() {
    return drains;
  }

  public List<ServiceRuntime.Health> health() {
    return runtime.health();
  }

  /** Completes with a reason when a service failed for good and the engine must stop. */
  public CompletableFuture<String> fatal() {
    return fatal;
  }

  /** After an orderly stop, the other engines take the live jobs over at once (i18). */
  private void releaseLease() {
    leases.lease().ifPresent(l -> {
      try {
        l.release();
      } catch (RuntimeException e) {
        LOG.warn("could not end this engine's lease; the other engines take its jobs over "
            + "once it runs out: {}", e.getMessage());
      }
    });
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    maintenance.close();
    runtime.close();
    releaseLease();
    clusters().forEach(Cluster::close); // removed ones were closed when they left
    database.close();
    LOG.info("engine stopped");
  }
}
