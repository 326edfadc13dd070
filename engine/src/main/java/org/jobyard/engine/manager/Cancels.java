package org.jobyard.engine.manager;

import java.util.List;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cancels of live jobs: sent on the cluster's worker, sent again after a back-off when the call
 * failed, and again after {@code resendMillis} when it was sent but the job did not end (a cancel
 * the batch system dropped). Used on the manager's thread.
 */
final class Cancels {
  private static final Logger LOG = LoggerFactory.getLogger(Cancels.class);
  private static final long RESEND_MILLIS = 30_000;

  private final Actor actor;
  private final Clusters clusters;
  /** How long a cancel may go unanswered before it is sent again; tests shorten it. */
  private volatile long resendMillis = RESEND_MILLIS;

  Cancels(Actor actor, Clusters clusters) {
    this.actor = actor;
    this.clusters = clusters;
  }

  void resendAfter(java.time.Duration after) {
    resendMillis = after.toMillis();
  }

  void dispatch(Cluster c, List<JobRef> refs) {
    actor.callStarted();
    var inc = actor.incarnation();
    var now = System.currentTimeMillis();
    for (var r : refs) {
      var j = actor.job(r.jobId());
      if (j != null) {
        j.cancelSentAt = now;
        if (j.state == JobState.CANCELLING) {
          c.cancelling.add(j.id);
        }
      }
    }
    var ids = refs.stream().map(JobRef::jobId).toList();
    c.dispatch(Cluster.Call.CANCEL, backend -> {
      backend.cancel(refs);
      return null;
    }, (none, error) -> actor.report(new Message.CancelSent(inc, c.name, ids, error)));
  }

  void onSent(Message.CancelSent m) {
    actor.callEnded();
    var c = clusters.get(m.cluster());
    if (c == null) {
      return; // removed by a reload meanwhile
    }
    if (m.error() != null) {
      LOG.warn("cancel on cluster {} failed, will retry: {}", c.name, m.error().getMessage());
      c.lastError = m.error().getMessage();
      for (var id : m.jobIds()) {
        var j = actor.job(id);
        if (j != null) {
          j.cancelSentAt = 1; // resend at the next tick after the back-off
        }
      }
      return;
    }
    c.pollWanted = true;
  }

  /**
   * Each tick: a cancel that did not take is sent again after a while (only the jobs being
   * cancelled are looked at: a tick must stay cheap with 100,000 live jobs).
   */
  void resendDue(Cluster c, long now) {
    for (var it = c.cancelling.iterator(); it.hasNext(); ) {
      var j = actor.job(it.next());
      if (j == null || j.state != JobState.CANCELLING) {
        it.remove();
      } else if (j.ref != null && j.cancelSentAt > 0 && now - j.cancelSentAt > resendMillis) {
        j.cancelSentAt = now;
        dispatch(c, List.of(j.ref));
      }
    }
  }
}
