package org.jobyard.engine.manager;

import java.time.Instant;
import java.util.List;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobState;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.store.Change;

/**
 * What a cluster's {@link Submitter} and {@link Poller} may ask of the job manager, the one owner
 * of job state. Every method but {@link #report} is called on the manager's thread, in a turn:
 * changes join the turn's batch, and {@link #afterCommit} work runs once it is durable.
 */
interface Actor {
  /** The live job, or null if it is no longer live. */
  Job job(String id);

  EngineConfig.Tuning tuning();

  /** Reports from work started in an earlier incarnation are ignored. */
  long incarnation();

  /** The manager is stopping: no new lookups, submissions or outbox work. */
  boolean stopping();

  void change(Change change);

  void afterCommit(Runnable action);

  /** Posts a message to the mailbox; callable from any thread (backend workers, timers). */
  void report(Message message);

  /** A backend call was handed out; {@link #callEnded} when its report is handled. */
  void callStarted();

  void callEnded();

  /** A heartbeat after {@code millis} (a paced submission that may go then). */
  void wakeAfter(long millis);

  void move(Job job, Transitions.Event event, String reason);

  void finish(Job job, Transitions.Event event, Integer exitCode, String reason);

  void endAttempt(Cluster c, Job job, JobState state, String reason, Instant now);

  /** {@code lost}: the attempt ended without an exit code (lost, evicted, held, node failure). */
  void retryOrFinish(Job job, Integer exitCode, boolean lost, String reason);

  void nextClusterOrFail(Job job, String reason);

  /** Cancels a given-up attempt's native job through the outbox. */
  void abandon(Cluster c, Job job);

  /** Cleans the attempt's sandbox through the outbox. */
  void clean(Cluster c, Job job);

  void dispatchCancel(Cluster c, List<JobRef> refs);

  /** A job becomes live (submitted, restarted): the manager owns it from now on. */
  void admit(Job job);

  /** The next job sequence number. */
  long nextSeq();

  /** Queues the job for its cluster once its dependencies ({@code after}) are met. */
  void queue(Job job);

  /** i18: gives the cluster's queued jobs this engine cannot run soon to other engines. */
  void overflow(Cluster c);

  /** Tells listeners of a job that is new (no state before). */
  void announce(Job job);

  /** Cleans a dead job's attempt through the outbox (flush). */
  void cleanLater(String jobId, String cluster, String nativeId, String attributesJson);
}
