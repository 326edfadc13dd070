package org.jobyard.engine.manager;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.engine.retry.RetryRules;
import org.jobyard.engine.store.AttemptRow;
import org.jobyard.engine.store.Change;
import org.jobyard.engine.store.JobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job manager's start: the live jobs rebuilt from the store, each put where it was. Queued
 * jobs go back to their cluster's queue (those with dependencies to the manager's gate); a job caught mid-submission (intent committed, no native
 * id) is looked up by its tag before anything is submitted; a job being cancelled has its cancel
 * sent again; every cluster with live jobs is polled at once. A job whose cluster is gone, or
 * whose spec cannot be read, fails with the reason. Runs on the manager's thread, before its loop.
 */
final class Recovery {
  private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

  /**
   * What the manager takes over: its live jobs, the store changes recovery made, and the queued
   * jobs that wait for dependencies (the manager asks once every live job is loaded).
   */
  record Result(Map<String, Job> jobs, List<Change> changes, List<Job> gated, List<Job> delayed) {}

  private Recovery() {}

  static Result rebuild(List<JobStore.LiveJob> live, Map<String, Cluster> clusters,
      List<String> defaultClusters, Instant now) {
    var jobs = new LinkedHashMap<String, Job>();
    var changes = new ArrayList<Change>();
    var gated = new ArrayList<Job>();
    var delayed = new ArrayList<Job>();
    int adopted = 0;
    for (var entry : live) {
      var row = entry.job();
      // the spec is parsed when the job first needs it (QUEUED jobs below, submits, retries)
      var job = new Job(row.id(), row.seq(), row.owner(), row.name(), row.session(), null,
          row.spec(), defaultClusters, row.createdAt());
      job.desired = row.desired();
      job.state = row.state();
      job.attempt = row.attempt();
      job.clusterIndex = row.clusterIndex();
      job.retriesLeft = row.retriesLeft();
      job.exitCode = row.exitCode();
      job.reason = row.reason();
      var a = entry.attempt();
      if (row.state() == JobState.QUEUED || a == null) {
        if (a != null && row.state() == JobState.QUEUED) {
          waitForRetry(job, a, now);
        }
        requeue(job, clusters, jobs, changes, job.notBefore > 0 ? delayed : gated, now);
        continue;
      }
      var cluster = clusters.get(a.cluster());
      if (cluster == null) {
        fail(job, "cluster '" + a.cluster() + "' is no longer configured; the job's state there "
            + "is unknown", changes, now);
        continue;
      }
      job.cluster = a.cluster();
      job.attemptState = a.state();
      job.attemptCreatedAt = a.createdAt();
      job.attemptStartedAt = a.startedAt(); // attempt times survive a restart
      job.attemptEndedAt = a.endedAt();
      job.nativeState = a.nativeState();
      if (a.nativeId() != null) {
        job.adoptStored(a.nativeId(), a.attributes());
      }
      jobs.put(job.id, job);
      cluster.live.add(job.id);
      if (job.ref == null) {
        // intent committed, outcome unknown: ask the batch system by tag
        cluster.lookUp(job);
        if (job.state != JobState.CANCELLING) {
          job.state = JobState.SUBMITTING;
        }
      } else if (job.state == JobState.CANCELLING) {
        job.cancelSentAt = 1;
        cluster.cancelling.add(job.id);
      }
      cluster.pollWanted = true;
      adopted++;
    }
    if (!live.isEmpty()) {
      LOG.info("recovered {} live job(s), {} with a backend attempt", jobs.size(), adopted);
    }
    return new Result(jobs, changes, gated, delayed);
  }

  /**
   * A retry still inside its {@code retry_delay} when the engine stopped waits the rest of it: the
   * delay counts from when the failed attempt ended, as stored.
   */
  private static void waitForRetry(Job job, AttemptRow failed, Instant now) {
    JobSpec spec;
    try {
      spec = job.spec();
    } catch (IllegalStateException e) {
      return; // requeue fails it with the reason
    }
    var delay = RetryRules.delay(spec, RetryRules.retriesDone(spec, job.retriesLeft));
    var ended = failed.endedAt() != null ? failed.endedAt() : failed.updatedAt();
    var notBefore = ended.plus(delay);
    if (!delay.isZero() && notBefore.isAfter(now)) {
      job.notBefore = RetryWait.notBefore(notBefore);
    }
  }

  /** A job without a native attempt goes back to its current cluster's queue. */
  private static void requeue(Job job, Map<String, Cluster> clusters, Map<String, Job> jobs,
      List<Change> changes, List<Job> gated, Instant now) {
    // gated: the jobs waiting for dependencies, or for the rest of a retry delay
    String current;
    try {
      current = job.currentCluster();
    } catch (IllegalStateException e) {
      LOG.error("{}; marking it failed", e.getMessage());
      fail(job, "stored spec unreadable", changes, now);
      return;
    }
    var target = current == null ? null : clusters.get(current);
    if (target == null) {
      fail(job, "cluster '" + current + "' is no longer configured", changes, now);
      return;
    }
    if (job.state != JobState.QUEUED) {
      job.state = JobState.QUEUED;
      changes.add(new Change.UpdateJob(job.row(now)));
    }
    jobs.put(job.id, job);
    if (job.spec().after().isEmpty() && job.notBefore == 0) {
      target.queue.add(job);
    } else {
      gated.add(job); // or, for a retry that waits out its delay, the delayed ones
    }
  }

  private static void fail(Job job, String reason, List<Change> changes, Instant now) {
    job.state = JobState.FAILED;
    job.reason = reason;
    changes.add(new Change.UpdateJob(job.row(now)));
  }
}
