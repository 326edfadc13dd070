package org.jobyard.api;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A batch system as one configured cluster sees it. Created by a {@link BackendProvider} for each
 * cluster of the configuration.
 *
 * <p><b>Threads.</b> The engine calls one backend instance from three threads, each making one
 * call at a time, in order: the <em>staging</em> thread makes the {@link #submit} calls (which
 * upload the jobs' inputs), the <em>collecting</em> thread the {@link #collect} calls, and the
 * <em>control</em> thread every other call ({@link #poll}, {@link #lookup}, {@link #cancel},
 * {@link #hold}, {@link #release}, {@link #tail}, {@link #clean}, {@link #maintain}); so a long
 * upload or download never delays a poll, a cancel or another job's end. Two submits, two
 * collects or two control calls never overlap, but a submit, a collect and a control call may run
 * at the same time: state that more than one of them touches (a cache, a lazily resolved folder,
 * a credential) must be thread-safe; state used by one kind of call only needs no locking. For one
 * job the engine keeps the order itself: it cancels, holds or releases a job only after its
 * submit has returned, does not poll it while it is collected, and cleans it only after its
 * collect has returned. Calls may block (they run outside the engine's job manager). Different
 * clusters are called concurrently, each with its own instance.
 *
 * <p><b>Errors.</b> Throw {@link BackendException}; {@link BackendException#isRetryable()} tells
 * the engine whether to try the same call again later (a timeout, a scheduler that is down) or to
 * give up on this cluster for the job (a spec the batch system refuses).
 *
 * <p><b>Identity.</b> Every native job carries the engine's {@link SubmitRequest#tag()}; after a
 * crash between "the batch system took it" and "the engine recorded it", the engine calls {@link
 * #lookup} instead of submitting again.
 */
public interface Backend extends AutoCloseable {

  /** The optional operations this backend supports. The engine never calls an undeclared one. */
  Set<Capability> capabilities();

  /**
   * Submits jobs. A backend with {@link Capability#BULK_SUBMIT} gets many at once and should use
   * one batch-system call where it can; otherwise the engine passes one job per call. Returns one
   * outcome per request, in any order.
   *
   * <p>When the batch system may have taken a job but did not say so (a lost answer, a timeout
   * after the command was sent), return {@link SubmitOutcome.InDoubt} for it: the engine then
   * looks the attempt up by its tag before it may submit it again. A job left out of the result,
   * a retryable exception and a {@code RuntimeException} are treated the same way, as in doubt; a
   * non-retryable {@link BackendException} means "none of them was submitted, and none will be".
   *
   * <p>When the batch system refuses some jobs of a bulk call and takes the others, return {@link
   * SubmitOutcome.Rejected} (not retryable) for each refused job and {@link
   * SubmitOutcome.Accepted} for the rest: only the refused jobs move on to their next cluster or
   * fail; the others run. Never throw for the whole call because one job was refused.
   */
  List<SubmitOutcome> submit(List<SubmitRequest> jobs) throws BackendException;

  /**
   * Reports the status of many jobs with as few batch-system calls as possible (one listing per
   * call, not one per job). The result holds an entry for each job id asked about; a job the
   * batch system cannot account for now is {@link JobStatus.Unknown}, never failed.
   */
  Map<String, JobStatus> poll(List<JobRef> jobs) throws BackendException;

  /**
   * Asks the batch system to stop the jobs. Cancelling a job that has already ended, or is no
   * longer known, is not an error. The outcome is observed by the next {@link #poll}.
   */
  void cancel(List<JobRef> jobs) throws BackendException;

  /**
   * Finds the native jobs carrying the given attempts' tags, for jobs whose submission may or may
   * not have happened before a crash. Returns only those found, keyed by job id.
   */
  Map<String, JobRef> lookup(List<SubmitRequest> attempts) throws BackendException;

  /** With {@link Capability#HOLD_RELEASE}: keeps the jobs from starting until released. */
  default void hold(List<JobRef> jobs) throws BackendException {
    throw new UnsupportedOperationException("hold is not supported by this backend");
  }

  /** With {@link Capability#HOLD_RELEASE}: lets held jobs start. */
  default void release(List<JobRef> jobs) throws BackendException {
    throw new UnsupportedOperationException("release is not supported by this backend");
  }

  /**
   * With {@link Capability#RESUME}: asks the cluster to run failed native jobs again from where
   * they failed, keeping their native ids. Polls after it must not report the old failure as the
   * job's end (the cluster may still show it for a while). A job the cluster will not restart
   * (not failed, out of reruns, gone) throws a non-retryable {@link BackendException} naming it
   * and its state there; the engine then runs the job as a new attempt.
   */
  default void resume(List<JobRef> jobs) throws BackendException {
    throw new UnsupportedOperationException("resume is not supported by this backend");
  }

  /**
   * With {@link Capability#LOG_ACCESS}: the last {@code lines} lines of a job's output, read where
   * the job runs (for a job still running, or whose output has not come home yet).
   */
  default Optional<String> tail(JobRef job, LogStream stream, int lines) throws BackendException {
    return Optional.empty();
  }

  /**
   * Called once after the job ended, before the engine reports it finished: bring the job's
   * stdout, stderr and declared output files to the paths its spec names on the engine's machine.
   * Must be idempotent: after a crash it may be called again.
   */
  default void collect(JobRef job, JobSpec spec) throws BackendException {}

  /**
   * Removes what the job left on the cluster (sandbox, native records). Runs after the engine
   * committed the job's end; must be idempotent.
   */
  default void clean(JobRef job) throws BackendException {}

  /**
   * The most jobs this cluster should run at once, if the backend knows (the local backend's
   * slots); empty leaves the limit to the batch system.
   */
  default java.util.OptionalInt slots() {
    return java.util.OptionalInt.empty();
  }

  /**
   * How often the engine calls {@link #maintain()}; empty (the default) for never. Asked once,
   * after the backend is created.
   */
  default Optional<java.time.Duration> maintenanceInterval() {
    return Optional.empty();
  }

  /**
   * Periodic work that is not a job call: renewing a delegation, checking that the CE answers,
   * cleaning a quota. Called every {@link #maintenanceInterval()} on the control thread (never
   * while a poll or cancel of this backend runs, but possibly while a submit or collect does). The
   * conditions returned replace the previous call's and are shown to users by {@code jobyard
   * backends} and the API; a {@link Condition.Severity#WARNING} or {@link Condition.Severity#ERROR} marks the
   * cluster as degraded. An exception is shown as an error condition; the cluster keeps working
   * and the hook is called again at its next time.
   */
  default List<Condition> maintain() throws BackendException {
    return List.of();
  }

  /** Releases connections and threads. */
  @Override
  default void close() {}
}
