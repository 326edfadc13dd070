package org.jobyard.engine.reload;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jobyard.engine.config.ClusterConfig;
import org.jobyard.engine.config.EngineConfig;

/**
 * What a reload changes, from the configuration in force to the one just read: clusters added,
 * removed, and retuned (the engine's own settings of a cluster: max_jobs, poll_interval, pacing,
 * held_timeout, keep_sandbox, downtime), fair shares; what it cannot change in a running engine
 * ({@code refused}: the reload is refused whole), and what waits for the next start.
 *
 * @param refused why the new configuration cannot be taken, one line each; empty if it can
 * @param restart settings that changed but take effect only at the next start
 */
public record ConfigChange(List<ClusterConfig> added, List<String> removed,
    List<ClusterConfig> retuned, boolean sharesChanged, List<String> refused,
    List<String> restart) {

  public ConfigChange {
    added = List.copyOf(added);
    removed = List.copyOf(removed);
    retuned = List.copyOf(retuned);
    refused = List.copyOf(refused);
    restart = List.copyOf(restart);
  }

  public static ConfigChange between(EngineConfig old, EngineConfig next) {
    var added = new ArrayList<ClusterConfig>();
    var removed = new ArrayList<String>();
    var retuned = new ArrayList<ClusterConfig>();
    var refused = new ArrayList<String>();
    var restart = new ArrayList<String>();
    for (var name : old.clusters().keySet()) {
      if (!next.clusters().containsKey(name)) {
        removed.add(name);
      }
    }
    for (var c : next.clusters().values()) {
      var was = old.clusters().get(c.name());
      if (was == null) {
        added.add(c);
        continue;
      }
      if (!was.backend().equals(c.backend()) || !was.transport().equals(c.transport())
          || !was.settings().equals(c.settings())) {
        refused.add("clusters." + c.name() + ": its backend, transport or backend settings "
            + "changed, which a running cluster cannot take; give the new settings a new "
            + "cluster name (and drain and remove the old one), or restart the engine");
        continue;
      }
      if (was.maxJobs() != c.maxJobs() || !Objects.equals(was.pollInterval(), c.pollInterval())
          || !was.policy().equals(c.policy())) {
        retuned.add(c);
      }
      if (!was.users().equals(c.users())) {
        restart.add("clusters." + c.name() + ".users");
      }
    }
    for (var name : removed) {
      if (old.defaultClusters().contains(name)) {
        refused.add("clusters." + name + ": cannot be removed while it is one of the running "
            + "engine's default_clusters " + old.defaultClusters() + " (those change at a "
            + "restart)");
      }
    }
    for (var c : added) {
      if (!c.users().isEmpty()) {
        restart.add("clusters." + c.name() + ".users (until then only the engine's owner and "
            + "admins may use it)");
      }
    }
    if (!old.database().equals(next.database())) {
      refused.add("database: the store cannot change under a running engine; restart it");
    }
    if (!old.api().equals(next.api())) {
      restart.add("api");
    }
    if (!old.engine().equals(next.engine())) {
      restart.add("engine");
    }
    if (!old.defaultClusters().equals(next.defaultClusters())) {
      restart.add("default_clusters");
    }
    if (!old.metrics().equals(next.metrics())) {
      restart.add("metrics");
    }
    return new ConfigChange(added, removed, retuned, !old.fairShare().equals(next.fairShare()),
        refused, restart);
  }

  /** One line per change, for the reply and the log. */
  public List<String> describe() {
    var out = new ArrayList<String>();
    added.forEach(c -> out.add("added cluster '" + c.name() + "' (" + c.backend() + ")"));
    removed.forEach(n -> out.add("removed cluster '" + n + "'"));
    retuned.forEach(c -> out.add("retuned cluster '" + c.name() + "'"));
    if (sharesChanged) {
      out.add("fair shares changed");
    }
    return out;
  }
}
