package org.jobyard.engine.manager;

import static org.jobyard.api.JobState.CANCELLED;
import static org.jobyard.api.JobState.CANCELLING;
import static org.jobyard.api.JobState.FAILED;
import static org.jobyard.api.JobState.PAUSED;
import static org.jobyard.api.JobState.PENDING;
import static org.jobyard.api.JobState.QUEUED;
import static org.jobyard.api.JobState.RUNNING;
import static org.jobyard.api.JobState.SUBMITTING;
import static org.jobyard.api.JobState.SUCCEEDED;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jobyard.api.JobState;

/**
 * Every rule for a job's state, in one place: what may happen to a job in each state, and what it
 * becomes. Pure: the job manager asks, then does the effects. A pair that is not in the table is a
 * bug in the manager; {@link JobState#canMoveTo} is what users are promised, and every rule here
 * keeps that promise (TransitionsTest enumerates every pair).
 */
final class Transitions {

  /** What happened to a job. */
  enum Event {
    /** The engine commits its intent to submit the job's next attempt. */
    SUBMIT_INTENT,
    /** The batch system took the attempt (or a lookup found it by its tag). */
    ACCEPTED,
    /** A poll saw the attempt waiting in the batch system's queue. */
    SEEN_PENDING,
    /** A poll saw the attempt running. */
    SEEN_RUNNING,
    /** A poll saw the attempt held by the batch system (or on the user's request). */
    SEEN_HELD,
    /** The attempt ended with exit code 0 and its outputs came home. */
    SUCCEEDED,
    /** The job failed for good: no retries left, no cluster left, or refused everywhere. */
    FAILED,
    /** The attempt failed, was lost, held too long, or refused; a new one is queued. */
    NEW_ATTEMPT,
    /** The user asked to cancel a job that is already on a cluster (or being submitted). */
    CANCEL_REQUESTED,
    /** The job is cancelled: before submission, on request, or outside Jobyard. */
    CANCELLED,
    /** The user paused a job: kept out of its queue, or its attempt stopped. */
    PAUSED_BY_USER,
    /** The user resumed a paused job whose attempt is gone: queued as a new attempt. */
    RESUMED,
    /** The user ran a finished job again. */
    RESTARTED,
    /** The user restarted a failed job whose cluster resumes its failed attempt in place. */
    RESUMED_ON_CLUSTER
  }

  /** What the manager does besides changing the state. */
  enum Effect {
    /** The job no longer counts against its cluster's {@code max_jobs}. */
    LEAVE_CLUSTER,
    /** The job is finished: the manager forgets it. */
    END
  }

  /** A rule's outcome. */
  record Outcome(JobState state, Set<Effect> effects) {
    Outcome {
      effects = effects.isEmpty() ? Set.of() : Set.copyOf(effects);
    }
  }

  private static final Set<JobState> ON_CLUSTER = EnumSet.of(SUBMITTING, PENDING, RUNNING, PAUSED);
  private static final Map<Event, Rule> RULES = new EnumMap<>(Event.class);

  private record Rule(Set<JobState> from, Outcome outcome) {}

  private static void rule(Event event, Set<JobState> from, JobState to, Effect... effects) {
    RULES.put(event, new Rule(Set.copyOf(from), new Outcome(to, effects.length == 0
        ? Set.of() : EnumSet.of(effects[0], effects))));
  }

  static {
    rule(Event.SUBMIT_INTENT, Set.of(QUEUED), SUBMITTING);
    rule(Event.ACCEPTED, Set.of(SUBMITTING), PENDING);
    // a job that ran never shows as waiting again (a requeue keeps it RUNNING to the user)
    rule(Event.SEEN_PENDING, Set.of(SUBMITTING, PENDING, PAUSED), PENDING);
    rule(Event.SEEN_RUNNING, Set.of(SUBMITTING, PENDING, RUNNING, PAUSED), RUNNING);
    rule(Event.SEEN_HELD, Set.of(PENDING, RUNNING, PAUSED), PAUSED);
    rule(Event.SUCCEEDED, union(ON_CLUSTER, CANCELLING), SUCCEEDED, Effect.LEAVE_CLUSTER,
        Effect.END);
    rule(Event.FAILED, union(ON_CLUSTER, CANCELLING), FAILED, Effect.LEAVE_CLUSTER, Effect.END);
    rule(Event.NEW_ATTEMPT, ON_CLUSTER, QUEUED, Effect.LEAVE_CLUSTER);
    rule(Event.CANCEL_REQUESTED, union(ON_CLUSTER, CANCELLING), CANCELLING);
    rule(Event.CANCELLED, union(ON_CLUSTER, QUEUED, CANCELLING), CANCELLED, Effect.LEAVE_CLUSTER,
        Effect.END);
    rule(Event.PAUSED_BY_USER, Set.of(QUEUED, PENDING, RUNNING, PAUSED), PAUSED,
        Effect.LEAVE_CLUSTER);
    rule(Event.RESUMED, Set.of(PAUSED, PENDING, RUNNING), QUEUED);
    rule(Event.RESTARTED, Set.of(SUCCEEDED, FAILED, CANCELLED), QUEUED);
    rule(Event.RESUMED_ON_CLUSTER, Set.of(FAILED), PENDING);
  }

  private Transitions() {}

  /** The outcome of {@code event} for a job in {@code state}; empty when the move is forbidden. */
  static Optional<Outcome> next(JobState state, Event event) {
    var rule = RULES.get(event);
    return rule.from().contains(state) ? Optional.of(rule.outcome()) : Optional.empty();
  }

  static boolean allows(JobState state, Event event) {
    return RULES.get(event).from().contains(state);
  }

  private static Set<JobState> union(Set<JobState> states, JobState... more) {
    var all = EnumSet.copyOf(states);
    all.addAll(Set.of(more));
    return all;
  }
}
