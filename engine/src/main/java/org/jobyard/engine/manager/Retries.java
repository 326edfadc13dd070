package org.jobyard.engine.manager;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.jobyard.engine.retry.RetryRules;
import org.jobyard.engine.store.JobRow;

/**
 * What comes after an attempt that did not succeed: a retry (now, or after {@code retry_delay}),
 * the job's next cluster, or its failure. The rules are {@link RetryRules}'; this applies them on
 * the manager's thread.
 */
final class Retries {
  private final Actor actor;
  private final Clusters clusters;
  private final RetryWait retryWait;

  Retries(Actor actor, Clusters clusters, RetryWait retryWait) {
    this.actor = actor;
    this.clusters = clusters;
    this.retryWait = retryWait;
  }

  /** {@code lost}: the attempt ended without an exit code (lost, evicted, held, node failure). */
  void retryOrFinish(Job job, Integer exitCode, boolean lost, String reason) {
    if (job.desired == JobRow.Desired.RUN && job.retriesLeft > 0
        && RetryRules.covers(job.spec(), exitCode, lost)) { // i20: retry_on
      job.retriesLeft--;
      job.exitCode = exitCode;
      job.clusterIndex = RetryRules.clusterForRetry(job.spec(), job.clusterIndex,
          job.clusters().size()); // i20: retry_elsewhere
      var delay = RetryRules.delay(job.spec(), RetryRules.retriesDone(job.spec(),
          job.retriesLeft)); // retry_delay, retry_backoff
      var wait = delay.isZero() ? "" : "; next attempt not before "
          + Instant.now().plus(delay).truncatedTo(ChronoUnit.SECONDS);
      actor.move(job, Transitions.Event.NEW_ATTEMPT, reason + "; retrying (" + job.retriesLeft
          + " retries left)" + wait);
      if (delay.isZero()) {
        clusters.get(job.currentCluster()).queue.add(job);
      } else {
        job.notBefore = RetryWait.notBefore(Instant.now().plus(delay));
        retryWait.hold(job);
      }
    } else {
      actor.finish(job, Transitions.Event.FAILED, exitCode, reason);
    }
  }

  /** The job's cluster cannot take it: its next cluster, or its failure if none is left. */
  void nextClusterOrFail(Job job, String reason) {
    clusters.get(job.cluster).live.remove(job.id);
    if (job.clusterIndex + 1 < job.clusters().size()) {
      job.clusterIndex++;
      actor.move(job, Transitions.Event.NEW_ATTEMPT, reason + "; trying cluster '"
          + job.currentCluster() + "'");
      clusters.get(job.currentCluster()).queue.add(job);
    } else {
      actor.finish(job, Transitions.Event.FAILED, null, reason);
    }
  }
}
