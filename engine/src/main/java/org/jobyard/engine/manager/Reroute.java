package org.jobyard.engine.manager;

import java.time.Instant;
import org.jobyard.engine.drain.Admission;
import org.jobyard.engine.store.Change;

/**
 * ops (drain, see {@code engine/drain}): the manager's side of a drain or downtime window, run
 * each tick on its thread for a cluster that has queued jobs but takes no new submissions.
 */
final class Reroute {
  private final Actor actor;
  private final Clusters clusters;
  private final Admission admission;

  Reroute(Actor actor, Clusters clusters, Admission admission) {
    this.actor = actor;
    this.clusters = clusters;
    this.admission = admission;
  }

  /** Reroutes the cluster's queue if it takes no new submissions now. */
  void ifClosed(Cluster c) {
    if (!c.queue.isEmpty()) {
      admission.closed(c.name).ifPresent(why -> reroute(c, why));
    }
  }

  /**
   * The queued jobs of a cluster that takes no new submissions go to the next of their clusters
   * that does; jobs with none wait where they are.
   */
  private void reroute(Cluster c, String why) {
    var waiting = why + "; waiting until it takes jobs again";
    for (var job : c.queue.items()) {
      var list = job.clusters();
      Cluster target = null;
      int i = job.clusterIndex;
      for (int k = 1; k < list.size() && target == null; k++) {
        i = (job.clusterIndex + k) % list.size();
        var candidate = clusters.get(list.get(i));
        if (candidate != null && admission.closed(candidate.name).isEmpty()) {
          target = candidate;
        }
      }
      if (target != null) {
        c.queue.remove(job);
        job.clusterIndex = i;
        job.reason = why + "; sent to cluster '" + target.name + "'";
        actor.change(new Change.UpdateJob(job.row(Instant.now())));
        target.queue.add(job);
      } else if (!waiting.equals(job.reason)) {
        job.reason = waiting; // ps and show say why it waits (written once, not every tick)
        actor.change(new Change.UpdateJob(job.row(Instant.now())));
      }
    }
  }
}
