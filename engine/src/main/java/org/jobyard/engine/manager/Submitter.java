package org.jobyard.engine.manager;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobState;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.engine.drain.Admission;
import org.jobyard.engine.store.Change;
import org.jobyard.engine.store.JobRow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One cluster's submissions (issue 15): which queued jobs go next ({@link #nextQueued}, the seam
 * for fair share and drain), staging them as committed intent, batched submit calls up to
 * {@code submit_batch} paced by {@code submit_rate}, back-off, and the lookups by tag that settle
 * an in-doubt submission (and a lost clock's check, the same call). Runs on the manager's thread.
 */
final class Submitter {
  // the manager's logger name, as before the split: log settings and filters keep working
  private static final Logger LOG = LoggerFactory.getLogger(JobManager.class);
  private final Actor actor;
  private final Cluster c;
  private final Poller poller;
  private final Admission admission;

  Submitter(Actor actor, Cluster cluster, Poller poller, Admission admission) {
    this.actor = java.util.Objects.requireNonNull(actor, "actor is null");
    this.c = java.util.Objects.requireNonNull(cluster, "cluster is null");
    this.poller = java.util.Objects.requireNonNull(poller, "poller is null");
    this.admission = java.util.Objects.requireNonNull(admission, "admission is null");
  }

  /** The queued job this cluster takes next, or null: the one place that picks the order. */
  Job nextQueued() {
    return c.queue.poll();
  }

  /**
   * Moves queued jobs to SUBMITTING while the cluster has room, in this turn's batch; they are
   * handed to the backend together once it is committed (intent first).
   */
  void stage(Instant now) {
    // max_pending counts the jobs waiting in the batch system's queue (a walk over the live
    // jobs, so only when the cluster sets it); submit_rate keeps a backlog of a burst at most
    int pending = c.policy.maxPending() > 0 ? waitingInQueue() : 0;
    int staged = c.toSubmit.size();
    var stagedNow = new ArrayList<Job>();
    // a drained cluster, or one in a downtime window, takes no new submissions
    var open = c.queue.isEmpty() || admission.closed(c.name).isEmpty();
    while (open && !c.queue.isEmpty() && c.hasRoom(pending)
        && now.toEpochMilli() >= c.unavailableUntil
        && (!c.pace.limited() || staged <= c.policy.submitRate() * SubmitPace.BURST_SECONDS)) {
      var job = nextQueued();
      if (job == null || job.state != JobState.QUEUED || job.desired != JobRow.Desired.RUN) {
        continue;
      }
      pending++;
      staged++;
      job.lostChecked = false;
      job.heldSince = 0;
      job.attempt++;
      job.cluster = c.name;
      job.adopt(null);
      job.nativeState = null;
      job.exitCode = null;
      job.attemptState = JobState.SUBMITTING;
      job.attemptCreatedAt = now;
      job.attemptStartedAt = null; // i20: stamped by Job.attemptRow
      job.attemptEndedAt = null;
      job.unknownSince = 0;
      c.live.add(job.id);
      actor.change(new Change.InsertAttempt(job.attemptRow(c.backendName, now)));
      actor.move(job, Transitions.Event.SUBMIT_INTENT, null);
      stagedNow.add(job);
    }
    actor.overflow(c); // i18: shared out by capacity when several engines share the store
    if (!stagedNow.isEmpty()) {
      // every job staged this turn is handed over before the first call goes: one call carries
      // up to submit_batch of them (one dispatch per job made the first call carry one job)
      actor.afterCommit(() -> {
        c.toSubmit.addAll(stagedNow);
        dispatchSubmits();
      });
    }
  }

  /** The heartbeat, once the cluster's back-off is over: submits and lookups that waited. */
  void tick() {
    dispatchSubmits();
    if (actor.stopping()) {
      return;
    }
    // jobs whose submission did not answer: find out what happened before anything else
    if (!c.needLookup.isEmpty()) {
      var lookups = c.needLookup.stream().map(actor::job)
          .filter(j -> j != null && j.lookupNeeded && j.ref == null).toList();
      c.needLookup.clear();
      lookups.forEach(j -> j.lookupNeeded = false);
      if (!lookups.isEmpty()) {
        dispatchLookup(lookups);
      }
    }
    if (!c.lostChecks.isEmpty()) {
      var checks = c.lostChecks.stream().map(actor::job)
          .filter(j -> j != null && j.ref != null && c.name.equals(j.cluster)).toList();
      c.lostChecks.clear();
      if (!checks.isEmpty()) {
        dispatchLookup(checks);
      }
    }
  }

  int waitingInQueue() {
    int n = 0;
    for (var id : c.live) {
      var j = actor.job(id);
      if (j != null && (j.state == JobState.SUBMITTING || j.state == JobState.PENDING)) {
        n++;
      }
    }
    return n;
  }

  void dispatchSubmits() {
    if (c.submitInFlight || c.toSubmit.isEmpty() || actor.stopping()
        || System.currentTimeMillis() < c.unavailableUntil) {
      return; // a cluster in back-off is tried again by the tick
    }
    var batchSize = c.capabilities.contains(org.jobyard.api.Capability.BULK_SUBMIT)
        ? actor.tuning().submitBatch() : 1;
    // submit_rate: as many as the pace allows now; the tick comes back for the rest
    batchSize = c.pace.take(Math.min(batchSize, c.toSubmit.size()), System.nanoTime());
    if (batchSize == 0) {
      if (!c.paceWakeScheduled) {
        // come back when the next job may go, not only at the next heartbeat
        c.paceWakeScheduled = true;
        actor.wakeAfter(Math.max(1, c.pace.millisUntilNext(System.nanoTime())));
      }
      return;
    }
    var batch = new ArrayList<Job>();
    while (batch.size() < batchSize && !c.toSubmit.isEmpty()) {
      var job = c.toSubmit.poll();
      if (job.state == JobState.SUBMITTING || job.state == JobState.CANCELLING && job.ref == null) {
        batch.add(job);
      }
    }
    if (batch.isEmpty()) {
      return;
    }
    var requests = batch.stream().map(Job::request).toList();
    var ids = batch.stream().map(j -> j.id).toList();
    c.submitInFlight = true;
    actor.callStarted();
    var inc = actor.incarnation();
    c.dispatch(Cluster.Call.SUBMIT, backend -> backend.submit(requests), (outcomes, error) ->
        actor.report(new Message.Submitted(inc, c.name, ids,
            outcomes == null ? List.of() : outcomes, error)));
  }

  void onSubmitted(Message.Submitted m) {
    c.submitInFlight = false;
    actor.callEnded();
    c.submitCalls++;
    var byId = new HashMap<String, SubmitOutcome>();
    m.outcomes().forEach(o -> byId.put(o.jobId(), o));
    var now = Instant.now();
    var toCancel = new ArrayList<JobRef>();
    if (m.error() == null) {
      c.lastError = null;
    }
    // the cluster refused for now or left us in doubt: back off once for the whole call
    boolean backOff = false;
    for (var id : m.jobIds()) {
      var job = actor.job(id);
      if (job == null) {
        continue;
      }
      var outcome = byId.get(id);
      if (outcome instanceof SubmitOutcome.Accepted a) {
        job.adopt(a.job());
        job.attemptState = JobState.PENDING;
        job.nativeState = "SUBMITTED";
        actor.change(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
        if (job.state == JobState.CANCELLING) {
          toCancel.add(a.job());
          job.cancelSentAt = System.currentTimeMillis();
          actor.change(new Change.UpdateJob(job.row(now)));
        } else {
          actor.move(job, Transitions.Event.ACCEPTED, null);
        }
        MDC.put("job", id);
        LOG.debug("submitted {} to {} as {}", id, c.name, a.job().nativeId());
        MDC.remove("job");
        continue;
      }
      // In doubt: the batch system may have the job. Look it up by tag before anything else.
      var doubt = switch (outcome) {
        case SubmitOutcome.InDoubt d -> d.reason();
        case SubmitOutcome.Rejected r -> null;
        case null -> m.error() == null ? "backend '" + c.backendName + "' returned no outcome "
            + "for the job" : m.error().isRetryable() ? m.error().getMessage() : null;
        default -> null;
      };
      if (doubt != null) {
        inDoubt(job, doubt);
        backOff = true;
        job.doubtFromBug = outcome == null && m.error() != null
            && m.error().getCause() instanceof RuntimeException;
        continue;
      }
      var error = outcome instanceof SubmitOutcome.Rejected r ? r.error() : m.error();
      if (job.state == JobState.CANCELLING) {
        actor.endAttempt(c, job, JobState.CANCELLED, "not submitted: " + error.getMessage(), now);
        actor.finish(job, Transitions.Event.CANCELLED, null, "cancelled during submission");
      } else if (error.isRetryable() && job.clusterIndex + 1 >= job.clusters().size()) {
        // the batch system said no for now and there is nowhere else to go: the same attempt,
        // after the back-off and after a lookup (an attempt is never submitted twice unasked)
        LOG.debug("job {}: cluster {} refused it for now, will retry: {}", id, c.name,
            error.getMessage());
        c.lastError = error.getMessage();
        backOff = true;
        job.doubt = null;
        c.lookUp(job);
      } else {
        // refused (or not now, with other clusters to try): the job's next cluster, in order
        actor.endAttempt(c, job, JobState.FAILED, error.getMessage(), now);
        actor.nextClusterOrFail(job, "rejected by cluster '" + c.name + "': " + error.getMessage());
      }
    }
    if (backOff) {
      c.failed(actor.tuning().retryBackoff(), System.currentTimeMillis());
    } else if (!byId.isEmpty()) {
      c.answered();
    }
    if (!toCancel.isEmpty()) {
      actor.afterCommit(() -> actor.dispatchCancel(c, toCancel));
    }
    actor.afterCommit(() -> dispatchSubmits());
  }

  /**
   * The submission of the job's attempt may have reached the batch system: it is looked up by its
   * tag (repeated with back-off until the batch system answers) before it may be submitted again.
   */
  void inDoubt(Job job, String reason) {
    MDC.put("job", job.id);
    LOG.info("job {}: submission to cluster {} is in doubt ({}); looking up {} before it may be "
        + "submitted again", job.id, c.name, reason, job.request().tag());
    MDC.remove("job");
    job.doubt = reason;
    c.lastError = reason;
    c.lookUp(job);
  }

  void dispatchLookup(List<Job> batch) {
    var requests = batch.stream().map(Job::request).toList();
    var ids = batch.stream().map(j -> j.id).toList();
    actor.callStarted();
    var inc = actor.incarnation();
    c.dispatch(Cluster.Call.LOOKUP, backend -> backend.lookup(requests), (found, error) ->
        actor.report(new Message.LookedUp(inc, c.name, ids, found == null ? Map.of() : found,
            error)));
  }

  void onLookedUp(Message.LookedUp m) {
    actor.callEnded();
    var now = Instant.now();
    if (m.error() != null) {
      // the batch system did not answer: ask again, waiting longer each time, never submit
      c.failed(actor.tuning().retryBackoff(), System.currentTimeMillis());
      LOG.warn("lookup of {} job(s) on cluster {} failed ({} failed call(s) in a row there), "
          + "asking again in {}ms: {}", m.jobIds().size(), c.name, c.failures,
          c.unavailableUntil - System.currentTimeMillis(), m.error().getMessage());
      c.lastError = m.error().getMessage();
      for (var id : m.jobIds()) {
        var job = actor.job(id);
        if (job != null && job.ref != null) {
          c.lostChecks.add(id); // unknown is not lost while the cluster does not answer
        } else if (job != null) {
          c.lookUp(job);
        }
      }
      return;
    }
    c.answered();
    for (var id : m.jobIds()) {
      var job = actor.job(id);
      if (job == null) {
        continue;
      }
      if (job.ref != null) {
        poller.lostCheckAnswered(job, m.found().get(id), now);
        continue;
      }
      var doubt = job.doubt;
      var bug = job.doubtFromBug;
      job.doubt = null;
      job.doubtFromBug = false;
      var ref = m.found().get(id);
      MDC.put("job", id);
      if (ref != null) {
        LOG.info("job {}: {}; found {} on cluster {} by its tag: adopted, not submitted again",
            id, doubt == null ? "submitted before the engine stopped" : "in-doubt submission "
                + "resolved", ref.nativeId(), c.name);
      } else if (doubt != null) {
        LOG.info("job {}: in-doubt submission resolved: cluster {} has no job tagged {}; {}",
            id, c.name, job.request().tag(), bug ? "not submitting it again (the backend's "
            + "failure was a bug, which would strike again)" : "submitting it again");
      }
      MDC.remove("job");
      if (ref != null) {
        job.adopt(ref);
        job.attemptState = JobState.PENDING;
        job.nativeState = "FOUND";
        actor.change(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
        if (job.state == JobState.CANCELLING) {
          actor.afterCommit(() -> actor.dispatchCancel(c, List.of(ref)));
        } else {
          actor.move(job, Transitions.Event.ACCEPTED, null);
        }
      } else if (job.state == JobState.CANCELLING) {
        actor.endAttempt(c, job, JobState.CANCELLED, "never reached the batch system", now);
        actor.finish(job, Transitions.Event.CANCELLED, null, "cancelled before it was submitted");
      } else if (bug) {
        // a plugin bug would only strike again: no second submit, the job's next cluster or fail
        actor.endAttempt(c, job, JobState.FAILED, doubt, now);
        actor.nextClusterOrFail(job, "rejected by cluster '" + c.name + "': " + doubt);
      } else {
        // Never reached the batch system: submitting the same attempt again is safe.
        c.toSubmit.add(job);
      }
    }
    actor.afterCommit(() -> dispatchSubmits());
  }
}
