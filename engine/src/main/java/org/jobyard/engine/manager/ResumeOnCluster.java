package org.jobyard.engine.manager;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.jobyard.api.Capability;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobState;
import org.jobyard.engine.store.Change;
import org.jobyard.engine.store.JobRow;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoredJson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The user's restart of a job whose last attempt failed on a cluster that declares {@link
 * Capability#RESUME} (an ARC CE): the failed attempt goes on, on the same native job, from where
 * it failed, instead of a new attempt from the first step. If the cluster will not resume it, the
 * job runs as a new attempt, as a restart does elsewhere. Runs on the manager's thread.
 */
final class ResumeOnCluster {
  private static final Logger LOG = LoggerFactory.getLogger(JobManager.class);
  private final Actor actor;
  private final Supplier<Map<String, Cluster>> clusters;
  private final JobStore store;

  ResumeOnCluster(Actor actor, Supplier<Map<String, Cluster>> clusters, JobStore store) {
    this.actor = actor;
    this.clusters = clusters;
    this.store = store;
  }

  /**
   * Resumes the restarted {@code job} (built from {@code row}, not yet admitted) when its last
   * attempt failed on a RESUME cluster; false, touching nothing, otherwise.
   */
  boolean tryResume(JobRow row, Job job) {
    if (row.state() != JobState.FAILED) {
      return false;
    }
    var attempts = store.attempts(row.id());
    var last = attempts.isEmpty() ? null : attempts.getLast();
    if (last == null || last.attempt() != row.attempt() || last.nativeId() == null
        || last.state() != JobState.FAILED) {
      return false; // refused at submit, lost, or never on a cluster: nothing to resume
    }
    var c = clusters.get().get(last.cluster());
    if (c == null || !c.capabilities.contains(Capability.RESUME)) {
      return false;
    }
    job.desired = JobRow.Desired.RUN;
    job.state = row.state();
    job.attempt = row.attempt();
    job.clusterIndex = row.clusterIndex();
    job.retriesLeft = row.retriesLeft(); // the same attempt: its retries were spent already
    job.cluster = c.name;
    job.adopt(new JobRef(job.id, last.nativeId(), StoredJson.attributes(last.attributes())));
    job.nativeState = last.nativeState();
    job.attemptState = JobState.PENDING;
    job.attemptCreatedAt = last.createdAt();
    job.attemptStartedAt = last.startedAt();
    job.attemptEndedAt = null;
    job.exitCode = null;
    // polled (c.live) only once the cluster took the request: until then a poll would still see
    // the old failure and end the job again before the answer came
    actor.admit(job);
    actor.move(job, Transitions.Event.RESUMED_ON_CLUSTER, "restarted on cluster '" + c.name
        + "' from where its attempt " + job.attempt + " failed (native job " + last.nativeId()
        + ")");
    actor.change(new Change.UpdateAttempt(job.attemptRow(c.backendName, Instant.now())));
    var ref = job.ref;
    actor.afterCommit(() -> dispatch(c, job, ref));
    LOG.info("job {}: resuming its failed attempt {} on cluster {} ({})", job.id, job.attempt,
        c.name, ref.nativeId());
    return true;
  }

  private void dispatch(Cluster c, Job job, JobRef ref) {
    actor.callStarted();
    var inc = actor.incarnation();
    c.dispatch(Cluster.Call.RESUME, backend -> {
      backend.resume(List.of(ref));
      return null;
    }, (none, error) -> actor.report(new Message.Committed(List.of(() -> {
      // the answer comes back as work for the manager's turn (no message type of its own)
      actor.callEnded();
      if (inc == actor.incarnation()) {
        answered(c, job, ref, error);
      }
    }))));
  }

  private void answered(Cluster c, Job job, JobRef ref, org.jobyard.api.BackendException error) {
    if (error == null) {
      if (actor.job(job.id) == job && !job.state.isTerminal()) {
        c.live.add(job.id);
        c.pollWanted = true;
      }
      return;
    }
    if (actor.job(job.id) != job || job.ref == null
        || !job.ref.nativeId().equals(ref.nativeId()) || job.state.isTerminal()) {
      LOG.warn("job {}: cluster {} did not resume it ({}), and it has moved on since",
          job.id, c.name, error.getMessage());
      return;
    }
    var why = "cluster '" + c.name + "' did not resume its failed attempt: " + error.getMessage();
    LOG.warn("job {}: {}; running it as a new attempt", job.id, why);
    actor.endAttempt(c, job, JobState.FAILED, why, Instant.now());
    job.retriesLeft = job.spec().retries();
    job.adopt(null);
    actor.move(job, Transitions.Event.NEW_ATTEMPT, "restarted as a new attempt: " + why);
    actor.queue(job);
  }
}
