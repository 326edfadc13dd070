package org.jobyard.engine.manager;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.api.JobStatus;
import org.jobyard.engine.retry.RetryRules;
import org.jobyard.engine.store.Change;
import org.jobyard.engine.store.JobRow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cluster's polling (issue 15): when to poll, one batched call for all its live jobs, what
 * each answer means for a job (observed states, the lost clock, {@code held_timeout}), and the
 * collection of the jobs that ended. Runs on the manager's thread; state changes go through the
 * {@link Actor}, backend calls through {@link Cluster#dispatch} and come back as messages.
 */
final class Poller {
  // the manager's logger name, as before the split: log settings and filters keep working
  private static final Logger LOG = LoggerFactory.getLogger(JobManager.class);
  private final Actor actor;
  private final Cluster c;

  Poller(Actor actor, Cluster cluster) {
    this.actor = java.util.Objects.requireNonNull(actor, "actor is null");
    this.c = java.util.Objects.requireNonNull(cluster, "cluster is null");
  }

  /** Starts a poll if one is wanted and none is in flight. */
  void pollIfDue() {
    if (c.pollWanted && !c.pollInFlight && !c.live.isEmpty()) {
      dispatchPoll();
    }
  }

  void dispatchPoll() {
    var refs = new ArrayList<JobRef>();
    for (var id : c.live) {
      var job = actor.job(id);
      if (job != null && job.ref != null && !job.collecting) {
        refs.add(job.ref);
      }
    }
    c.pollWanted = false;
    c.nextPollAt = System.currentTimeMillis() + c.pollInterval.toMillis();
    if (refs.isEmpty()) {
      return;
    }
    c.pollInFlight = true;
    actor.callStarted();
    var inc = actor.incarnation();
    var asked = refs.stream().map(JobRef::jobId).toList();
    c.dispatch(Cluster.Call.POLL, backend -> backend.poll(refs), (statuses, error) ->
        actor.report(new Message.Polled(inc, c.name, asked,
            statuses == null ? Map.of() : statuses, error)));
  }

  void onPolled(Message.Polled m) {
    c.pollInFlight = false;
    c.polls++;
    actor.callEnded();
    if (m.error() != null) {
      // Unknown is not dead: an unanswered poll changes no job.
      c.lastError = m.error().getMessage();
      c.failed(actor.tuning().retryBackoff(), System.currentTimeMillis());
      c.nextPollAt = Math.max(c.nextPollAt, c.unavailableUntil);
      LOG.warn("poll of cluster {} failed ({}): {}", c.name,
          m.error().isRetryable() ? "will retry" : "not retryable", m.error().getMessage());
      return;
    }
    c.lastError = null;
    c.answered();
    var now = Instant.now();
    var ended = new ArrayList<Message.Collection>();
    for (var id : m.asked()) {
      var job = actor.job(id);
      if (job == null || job.ref == null || !c.name.equals(job.cluster) || job.collecting) {
        continue;
      }
      // the batch system answered, but not about this job: that is no news, not an end
      var status = m.statuses().getOrDefault(id, new JobStatus.Unknown("cluster '" + c.name
          + "' answered the poll without this job"));
      if (status instanceof JobStatus.Unknown u) {
        lostClock(job, u.reason(), now);
        continue;
      }
      job.unknownSince = 0;
      job.lostChecked = false;
      job.heldSince = status instanceof JobStatus.Held ? job.heldSince : 0;
      var changed = !status.nativeState().equals(job.nativeState);
      job.nativeState = status.nativeState();
      // [issue 14, SPI] attribute updates from the poll: stored with this poll's state changes
      var updated = job.ref.withAttributes(status.attributeUpdates());
      if (updated != job.ref) {
        job.adopt(updated);
        actor.change(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
      }
      switch (status) {
        case JobStatus.Pending p -> observe(job, JobState.PENDING, p.reason(), changed, now);
        case JobStatus.Running r -> observe(job, JobState.RUNNING, null, changed, now);
        case JobStatus.Held h -> {
          if (!heldTooLong(job, h, now)) {
            observe(job, JobState.PAUSED, h.reason(), changed, now);
          }
        }
        case JobStatus.Exited x -> ended.add(new Message.Collection(id, status, null));
        case JobStatus.Failed f -> ended.add(new Message.Collection(id, status, null));
        case JobStatus.Cancelled x -> ended.add(new Message.Collection(id, status, null));
        case JobStatus.Unknown u -> { }
      }
    }
    if (!ended.isEmpty()) {
      collect(ended);
    }
    if (c.pollWanted) {
      actor.afterCommit(() -> {
        if (!c.pollInFlight) {
          dispatchPoll();
        }
      });
    }
  }

  /**
   * A job the batch system cannot account for: after {@code lost_after} without news it is looked
   * up by its tag once; if that finds nothing (or the clock runs out again), the attempt is lost:
   * its native job is cancelled through the outbox, and the job retried or failed.
   */
  void lostClock(Job job, String reason, Instant now) {
    var nowMillis = now.toEpochMilli();
    if (job.unknownSince == 0) {
      job.unknownSince = nowMillis;
      return;
    }
    if (nowMillis - job.unknownSince <= actor.tuning().lostAfter().toMillis()
        || c.lostChecks.contains(job.id)) {
      return;
    }
    if (!job.lostChecked) {
      job.doubt = reason;
      c.lostChecks.add(job.id);
      return;
    }
    declareLost(job, reason, now);
  }

  void declareLost(Job job, String reason, Instant now) {
    var why = "lost on cluster '" + c.name + "': no news of it for "
        + actor.tuning().lostAfter().toSeconds() + "s and its tag was not found (" + reason + ")";
    actor.endAttempt(c, job, JobState.FAILED, why, now);
    actor.abandon(c, job);
    actor.retryOrFinish(job, null, true, why);
  }

  /**
   * A hold the user did not ask for, kept past the cluster's {@code held_timeout}: the attempt is
   * abandoned (cancelled through the outbox) and the job retried or failed with the hold reason.
   * A job the user paused is held on purpose and never times out.
   */
  boolean heldTooLong(Job job, JobStatus.Held held, Instant now) {
    var timeout = c.policy.heldTimeout();
    if (timeout == null || job.desired != JobRow.Desired.RUN
        || job.state == JobState.CANCELLING) {
      job.heldSince = 0;
      return false;
    }
    var nowMillis = now.toEpochMilli();
    if (job.heldSince == 0) {
      job.heldSince = nowMillis;
    }
    if (nowMillis - job.heldSince <= timeout.toMillis()) {
      return false;
    }
    var why = "held by cluster '" + c.name + "' for longer than its held_timeout ("
        + timeout.toSeconds() + "s): " + (held.reason() == null ? held.nativeState()
        : held.reason());
    actor.endAttempt(c, job, JobState.FAILED, why, now);
    actor.abandon(c, job);
    actor.retryOrFinish(job, null, true, why);
    return true;
  }

  void observe(Job job, JobState state, String reason, boolean changed,
      Instant now) {
    if (job.state == JobState.CANCELLING) {
      if (changed) {
        job.attemptState = state;
        actor.change(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
      }
      return;
    }
    var event = switch (state) {
      case PENDING -> Transitions.Event.SEEN_PENDING;
      case RUNNING -> Transitions.Event.SEEN_RUNNING;
      default -> Transitions.Event.SEEN_HELD;
    };
    if (job.state != state && Transitions.allows(job.state, event)) {
      job.attemptState = state;
      actor.change(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
      actor.move(job, event, reason);
    } else if (changed) {
      actor.change(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
    }
  }

  /**
   * Fetches the outputs of every job this poll saw end in one task on the cluster's worker, and
   * reports them in one message: their ends, and the refills of the slots they free, are then one
   * actor turn and one store commit (a task and a turn per job made the loop latency-bound).
   */
  void collect(List<Message.Collection> ended) {
    var work = new ArrayList<Collecting>();
    for (var e : ended) {
      var job = actor.job(e.jobId());
      job.collecting = true;
      work.add(new Collecting(job.ref, job.spec(), e.status()));
    }
    actor.callStarted();
    var inc = actor.incarnation();
    c.dispatch(Cluster.Call.COLLECT, backend -> {
      var done = new ArrayList<Message.Collection>(work.size());
      for (var w : work) {
        BackendException error = null;
        try {
          backend.collect(w.ref(), w.spec());
        } catch (BackendException e) {
          error = e;
        } catch (RuntimeException e) {
          error = c.unexpected(Cluster.Call.COLLECT, e);
        }
        done.add(new Message.Collection(w.ref().jobId(), w.status(), error));
      }
      return done;
    }, (done, error) -> actor.report(new Message.Collected(inc, c.name, done != null ? done
        : work.stream().map(w -> new Message.Collection(w.ref().jobId(), w.status(), error))
            .toList())));
  }

  /** What the worker needs to collect one job, taken on the manager's thread. */
  private record Collecting(JobRef ref, JobSpec spec, JobStatus status) {}

  void onCollected(Message.Collected m) {
    actor.callEnded();
    m.jobs().forEach(this::collected);
  }

  void collected(Message.Collection m) {
    var job = actor.job(m.jobId());
    if (job == null) {
      return;
    }
    job.collecting = false;
    var now = Instant.now();
    if (m.error() != null && m.error().isRetryable()) {
      LOG.warn("job {}: outputs not collected yet, will retry: {}", job.id,
          m.error().getMessage());
      return; // the next poll sees the end again and retries
    }
    var outputProblem = m.error() == null ? null : "outputs not collected: "
        + m.error().getMessage();
    switch (m.status()) {
      case JobStatus.Exited x -> {
        job.exitCode = x.exitCode();
        var succeeded = RetryRules.succeeded(job.spec(), x.exitCode()); // i20: success_exit_codes
        if (succeeded && outputProblem == null) {
          actor.endAttempt(c, job, JobState.SUCCEEDED, x.reason(), now);
          cleanAfterCollect(job);
          actor.finish(job, Transitions.Event.SUCCEEDED, x.exitCode(), null);
        } else {
          var reason = succeeded ? outputProblem : "exited with code " + x.exitCode()
              + (x.reason() == null ? "" : " (" + x.reason() + ")");
          actor.endAttempt(c, job, JobState.FAILED, reason, now);
          actor.retryOrFinish(job, x.exitCode(), false, reason);
        }
      }
      case JobStatus.Failed f -> {
        job.exitCode = f.exitCode() < 0 ? null : f.exitCode();
        actor.endAttempt(c, job, JobState.FAILED, f.reason(), now);
        actor.retryOrFinish(job, job.exitCode, true, f.reason());
      }
      case JobStatus.Cancelled x -> {
        actor.endAttempt(c, job, JobState.CANCELLED, x.reason(), now);
        if (job.desired == JobRow.Desired.PAUSE) {
          c.live.remove(job.id);
          job.adopt(null);
          actor.move(job, Transitions.Event.PAUSED_BY_USER,
              "paused: stopped on cluster '" + c.name + "'");
        } else if (job.desired == JobRow.Desired.CANCEL) {
          actor.finish(job, Transitions.Event.CANCELLED, null,
              x.reason() == null ? "cancelled" : x.reason());
        } else {
          actor.finish(job, Transitions.Event.CANCELLED, null, "cancelled outside Jobyard"
              + (x.reason() == null ? "" : ": " + x.reason()));
        }
      }
      default -> { }
    }
  }

  /**
   * A job that succeeded and whose outputs came home leaves nothing on the cluster worth its quota:
   * its sandbox is cleaned through the outbox (so a crash cannot skip or half-do it), unless the
   * cluster keeps sandboxes ({@code keep_sandbox}) or the job's stdout or stderr has no file of
   * its own, when the sandbox holds the only log (read by {@code logs}; {@code flush} cleans it).
   */
  void cleanAfterCollect(Job job) {
    var spec = job.spec();
    if (c.policy.keepSandbox() || job.ref == null || spec.stdout() == null
        || spec.stderr() == null) {
      return;
    }
    actor.clean(c, job);
  }

  /** The lookup of a job whose lost clock ran out: found, it gets one more round; else lost. */
  void lostCheckAnswered(Job job, JobRef found, Instant now) {
    var reason = job.doubt;
    job.doubt = null;
    if (!c.name.equals(job.cluster) || job.state.isTerminal() || job.collecting) {
      return;
    }
    if (found == null) {
      declareLost(job, reason == null ? "no news" : reason, now);
      return;
    }
    LOG.info("job {}: cluster {} gave no news of it for {}s, but its tag was found ({}); "
        + "waiting once more", job.id, c.name, actor.tuning().lostAfter().toSeconds(),
        found.nativeId());
    job.lostChecked = true;
    job.unknownSince = now.toEpochMilli();
    if (!found.nativeId().equals(job.ref.nativeId())) {
      job.adopt(found);
      actor.change(new Change.UpdateAttempt(job.attemptRow(c.backendName, now)));
    }
  }
}
