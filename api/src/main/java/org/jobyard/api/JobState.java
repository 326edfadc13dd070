package org.jobyard.api;

import java.util.EnumSet;
import java.util.Set;

/**
 * The life of a job as the engine and its users see it. The set is closed; states only move
 * along {@link #canMoveTo(JobState) allowed transitions}, so what a user sees never goes backwards.
 *
 * <pre>
 * QUEUED -> SUBMITTING -> PENDING -> RUNNING -> SUCCEEDED | FAILED
 *    any live state -> CANCELLING -> CANCELLED ; any live state -> PAUSED -> QUEUED
 *    SUBMITTING | PENDING | RUNNING -> QUEUED (a new attempt: retry, next cluster)
 *    SUCCEEDED | FAILED | CANCELLED -> QUEUED (restart, on request)
 *    FAILED -> PENDING (restart on request, resuming the failed attempt on a RESUME cluster)
 * </pre>
 */
public enum JobState {
  /** Accepted and stored by the engine, not yet handed to a backend. */
  QUEUED,
  /** The engine has committed its intent to submit; the backend call may be in flight. */
  SUBMITTING,
  /** The backend holds the job and has not started it yet. */
  PENDING,
  /** The job is running. */
  RUNNING,
  /** The backend holds the job (hold/release), or the engine paused it. */
  PAUSED,
  /** The engine has committed its intent to cancel; the backend call may be in flight. */
  CANCELLING,
  /** Ended with exit code 0 (every step). */
  SUCCEEDED,
  /** Ended otherwise: non-zero exit, signal, limit exceeded, or rejected by every cluster. */
  FAILED,
  /** Cancelled on request. */
  CANCELLED;

  private static final Set<JobState> TERMINAL = EnumSet.of(SUCCEEDED, FAILED, CANCELLED);

  public boolean isTerminal() {
    return TERMINAL.contains(this);
  }

  /** Whether a job in this state may be handed on to {@code next}. */
  public boolean canMoveTo(JobState next) {
    if (next == this) {
      return true;
    }
    return switch (this) {
      case QUEUED -> next == SUBMITTING || next == PAUSED || next == CANCELLED || next == FAILED;
      case SUBMITTING -> next == PENDING || next == RUNNING || next == QUEUED || next == FAILED
          || next == CANCELLING || next == SUCCEEDED || next == CANCELLED;
      // back to QUEUED only for a new attempt (a retry, or the next cluster in the job's list)
      case PENDING -> next != SUBMITTING;
      case RUNNING -> next != SUBMITTING && next != PENDING;
      case PAUSED -> next == QUEUED || next == PENDING || next == RUNNING || next == CANCELLING
          || next == CANCELLED || next == FAILED || next == SUCCEEDED;
      case CANCELLING -> next == CANCELLED || next == SUCCEEDED || next == FAILED;
      // a restart runs a finished job again as a new attempt, or resumes a failed one in place
      case SUCCEEDED, CANCELLED -> next == QUEUED;
      case FAILED -> next == QUEUED || next == PENDING;
    };
  }
}
