package org.jobyard.engine.manager;

import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.ToIntFunction;
import org.jobyard.engine.drain.Admission;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configured clusters, each with its {@link Submitter} and {@link Poller}, and what a reload
 * changes of them (ops): clusters are added and removed all or none, and a drained cluster that
 * still has jobs stays until its last job has ended. Used on the manager's thread; the map itself
 * is replaced whole, so other threads may read it.
 */
final class Clusters {
  private static final Logger LOG = LoggerFactory.getLogger(Clusters.class);

  private final Actor actor;
  private final Admission admission;
  /** Jobs waiting out a retry delay, by cluster: they keep a removed cluster busy. */
  private final ToIntFunction<String> waitingForRetry;
  private volatile Map<String, Cluster> all;
  private final Map<String, Submitter> submitters = new HashMap<>();
  private final Map<String, Poller> pollers = new HashMap<>();
  /** Removed while drained with jobs: closed once they have none (see {@link #retireIdle}). */
  private final Set<String> retiring = new LinkedHashSet<>();

  Clusters(Actor actor, Admission admission, Collection<Cluster> clusters,
      ToIntFunction<String> waitingForRetry) {
    this.actor = actor;
    this.admission = admission;
    this.waitingForRetry = waitingForRetry;
    var byName = new LinkedHashMap<String, Cluster>();
    clusters.forEach(c -> byName.put(c.name, c));
    this.all = Collections.unmodifiableMap(byName);
    this.all.values().forEach(this::attach);
  }

  /** Every configured cluster by name; safe to read from any thread. */
  Map<String, Cluster> all() {
    return all;
  }

  Cluster get(String name) {
    return all.get(name);
  }

  Submitter submitter(String cluster) {
    return submitters.get(cluster);
  }

  Poller poller(String cluster) {
    return pollers.get(cluster);
  }

  /** A cluster's submitter and poller, made when it joins (at start or by a reload). */
  private void attach(Cluster c) {
    var poller = new Poller(actor, c);
    pollers.put(c.name, poller);
    submitters.put(c.name, new Submitter(actor, c, poller, admission));
  }

  private void detach(String cluster) {
    pollers.remove(cluster);
    submitters.remove(cluster);
  }

  /** Adds and removes clusters, all or none; a refused change throws and changes nothing. */
  void reconfigure(Message.Reconfigure m) {
    var next = new LinkedHashMap<>(all);
    var retire = new LinkedHashSet<String>();
    for (var name : m.remove()) {
      var c = all.get(name);
      if (c == null) {
        continue;
      }
      var busy = c.live.size() + c.queue.size() + c.toSubmit.size()
          + waitingForRetry.applyAsInt(name);
      if (busy > 0 && admission.closed(name).isEmpty()) {
        throw new RejectedException("cluster '" + name + "' cannot be removed: it has " + busy
            + " live or queued job(s); drain it first ('jobyard drain " + name + "'), then "
            + "reload: it is removed once they have ended");
      }
      if (busy > 0) {
        retire.add(name); // drained: tracked to the end of its jobs, then removed
      } else {
        next.remove(name);
      }
    }
    for (var c : m.add()) {
      if (next.putIfAbsent(c.name, c) != null) {
        throw new RejectedException("cluster '" + c.name + "' is configured already");
      }
      retire.remove(c.name);
    }
    retiring.addAll(retire);
    m.add().forEach(c -> retiring.remove(c.name));
    var removed = all.values().stream().filter(c -> !next.containsKey(c.name)).toList();
    all = Collections.unmodifiableMap(next);
    m.add().forEach(this::attach);
    removed.forEach(c -> detach(c.name));
    removed.forEach(Clusters::closeLater);
    actor.afterCommit(() -> m.reply().complete(null));
  }

  /** Removed clusters that were drained with jobs, closed once they have none (each tick). */
  void retireIdle() {
    for (var it = retiring.iterator(); it.hasNext(); ) {
      var c = all.get(it.next());
      if (c == null) {
        it.remove();
      } else if (c.live.isEmpty() && c.queue.isEmpty() && c.toSubmit.isEmpty()
          && c.outbox.isEmpty() && waitingForRetry.applyAsInt(c.name) == 0) {
        it.remove();
        var next = new LinkedHashMap<>(all);
        next.remove(c.name);
        all = Collections.unmodifiableMap(next);
        detach(c.name);
        LOG.info("cluster {} removed: its last job has ended", c.name);
        closeLater(c);
      }
    }
  }

  /** Its workers wait for the calls queued on them: closed off the manager's thread. */
  private static void closeLater(Cluster c) {
    Thread.ofPlatform().daemon().name("close-" + c.name).start(c::close);
  }
}
