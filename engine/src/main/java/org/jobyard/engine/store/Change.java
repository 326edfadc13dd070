package org.jobyard.engine.store;

/**
 * One write to the store. The job manager produces them; {@link JobStore#apply} writes a list of
 * them in one transaction, so a state change and its hand-over are never two commits.
 */
public sealed interface Change {
  record InsertJob(JobRow row) implements Change {}

  /** Rewrites the mutable columns of the job (state, desired, attempt, exit code, reason...). */
  record UpdateJob(JobRow row) implements Change {}

  record InsertAttempt(AttemptRow row) implements Change {}

  record UpdateAttempt(AttemptRow row) implements Change {}

  /** Removes a dead job and its attempts (flush). */
  record DeleteJob(String jobId) implements Change {}

  /** Asks for a side effect to run after this transaction commits. */
  record InsertOutbox(long id, String jobId, String action, String payload) implements Change {}

  record DeleteOutbox(long id) implements Change {}

  /**
   * i18: gives a queued job this engine cannot run soon back to the store, where any engine with
   * room for {@code cluster} claims it ({@code lease.EngineLease#claimQueued}).
   */
  record ReleaseJob(String jobId, String cluster) implements Change {}
}
