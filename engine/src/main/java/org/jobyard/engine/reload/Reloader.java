package org.jobyard.engine.reload;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jobyard.engine.config.ClusterConfig;
import org.jobyard.engine.config.ConfigException;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.drain.Drains;
import org.jobyard.engine.manager.Cluster;
import org.jobyard.engine.manager.JobManager;
import org.jobyard.engine.manager.RejectedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a new configuration into a running engine without stopping a job, or refuses it whole
 * and leaves the one in force: new clusters are created first (a backend that fails to start
 * refuses the reload), then added and removed in one step of the job manager (which refuses to
 * remove a busy cluster that is not drained), then the engine's own settings of the remaining
 * clusters, the fair shares and the downtime windows are applied.
 */
public final class Reloader {
  private static final Logger LOG = LoggerFactory.getLogger(Reloader.class);

  /** What a reload did: one line per change, and settings that wait for a restart. */
  public record Result(List<String> applied, List<String> restart) {}

  private final JobManager manager;
  private final Drains drains;
  private final Function<ClusterConfig, Cluster> create;
  private final Consumer<List<Cluster>> started;

  /**
   * @param create makes a new cluster (its backend started) for a configuration's block
   * @param started told about the clusters a reload added (their periodic hooks start)
   */
  public Reloader(JobManager manager, Drains drains, Function<ClusterConfig, Cluster> create,
      Consumer<List<Cluster>> started) {
    this.manager = requireNonNull(manager, "manager is null");
    this.drains = requireNonNull(drains, "drains is null");
    this.create = requireNonNull(create, "create is null");
    this.started = requireNonNull(started, "started is null");
  }

  /** Applies {@code next}; {@link ConfigException} with every reason when it is refused. */
  public synchronized Result reload(EngineConfig current, EngineConfig next) {
    var change = ConfigChange.between(current, next);
    if (!change.refused().isEmpty()) {
      throw refused(String.join("; ", change.refused()), null);
    }
    var made = new ArrayList<Cluster>();
    try {
      for (var cc : change.added()) {
        made.add(create.apply(cc));
      }
      manager.reconfigure(made, change.removed()).get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      made.forEach(Cluster::close);
      var cause = e.getCause() instanceof RejectedException r ? r.getMessage()
          : String.valueOf(e.getCause());
      throw refused(cause, e.getCause());
    } catch (TimeoutException | InterruptedException e) {
      made.forEach(Cluster::close);
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw refused("the job manager did not take the new clusters within 60 s", e);
    } catch (RuntimeException e) {
      made.forEach(Cluster::close);
      throw refused(e.getMessage(), e);
    }
    var byName = manager.clusters();
    for (var cc : change.retuned()) {
      var c = byName.get(cc.name());
      if (c != null) {
        c.reconfigure(cc.maxJobs(), cc.pollInterval() != null ? cc.pollInterval()
            : current.engine().pollInterval(), cc.policy());
      }
    }
    byName.values().forEach(c -> c.fairShares(next.fairShare()));
    var windows = new LinkedHashMap<String, List<ClusterConfig.Downtime>>();
    next.clusters().forEach((name, cc) -> windows.put(name, cc.policy().downtime()));
    drains.downtime(windows);
    started.accept(made);
    var applied = change.describe();
    LOG.info("configuration reloaded: {}{}", applied.isEmpty() ? "no change" : applied,
        change.restart().isEmpty() ? "" : "; at the next start: " + change.restart());
    return new Result(applied, change.restart());
  }

  private static ConfigException refused(String why, Throwable cause) {
    var e = new ConfigException("reload refused, the configuration in force stays: " + why,
        cause);
    LOG.warn("{}", e.getMessage());
    return e;
  }
}
