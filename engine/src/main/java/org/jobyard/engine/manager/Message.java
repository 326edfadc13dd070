package org.jobyard.engine.manager;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitOutcome;

/**
 * What the job manager's mailbox holds: commands from users, each with a reply that always
 * completes, and reports from the slow work it handed out. Handled one at a time, in order.
 */
sealed interface Message {

  /** Something that must be answered: the reply is failed if the manager stops first. */
  sealed interface Command extends Message {
    CompletableFuture<?> reply();
  }

  /** A report from a backend call: ignored when it comes from before a restart of the loop. */
  sealed interface Report extends Message {
    long incarnation();
  }

  record Submit(String owner, List<JobSpec> specs, CompletableFuture<List<String>> reply)
      implements Command {}

  record Cancel(List<String> jobIds, CompletableFuture<List<String>> reply) implements Command {}

  record Stop(CompletableFuture<Void> reply) implements Command {}

  /** Live jobs this engine just took over from another one (i18, org.jobyard.engine.lease). */
  record Adopt(List<String> jobIds, List<Long> cleanUps) implements Message {}

  /** Runs a dead job again from its first step, as a new attempt with its retries renewed. */
  record Restart(org.jobyard.engine.store.JobRow row, CompletableFuture<String> reply)
      implements Command {}

  /** Removes dead jobs; their clusters clean up after the removal is committed. */
  record Flush(List<org.jobyard.engine.store.JobRow> rows,
      Map<String, List<org.jobyard.engine.store.AttemptRow>> attempts,
      CompletableFuture<List<String>> reply) implements Command {}

  record Pause(List<String> jobIds, CompletableFuture<List<String>> reply) implements Command {}

  record Resume(List<String> jobIds, CompletableFuture<List<String>> reply) implements Command {}

  /** ops (reload): clusters added to and removed from the configuration, all or none. */
  record Reconfigure(List<Cluster> add, List<String> remove, CompletableFuture<Void> reply)
      implements Command {}

  /** An outbox entry (cleanup, cancel of an abandoned attempt) was carried out, or failed. */
  record Cleaned(long incarnation, long outboxId, BackendException error) implements Report {}

  /** Periodic: time to poll clusters whose interval elapsed, retry what waited. */
  record Tick() implements Message {}

  /** A backend said a poll would find news. */
  record PollSoon(String cluster) implements Message {}

  /** The short wait after a PollSoon is over: poll now, with whatever else ended meanwhile. */
  record PollDue(String cluster) implements Message {}

  /** Changes written by the store: run what waited for them. */
  record Committed(List<Runnable> actions) implements Message {}

  record StoreFailed(Throwable error) implements Message {}

  record Submitted(long incarnation, String cluster, List<String> jobIds,
      List<SubmitOutcome> outcomes, BackendException error) implements Report {}

  /** @param asked the jobs the poll asked about: one missing from {@code statuses} is unknown */
  record Polled(long incarnation, String cluster, List<String> asked,
      Map<String, JobStatus> statuses, BackendException error) implements Report {}

  record LookedUp(long incarnation, String cluster, List<String> jobIds,
      Map<String, JobRef> found, BackendException error) implements Report {}

  /** The outputs of the jobs one poll saw end were fetched (each with its own outcome). */
  record Collected(long incarnation, String cluster, List<Collection> jobs) implements Report {}

  /** One ended job's collection: {@code error} is null when its outputs came home. */
  record Collection(String jobId, JobStatus status, BackendException error) {}

  record CancelSent(long incarnation, String cluster, List<String> jobIds,
      BackendException error) implements Report {}
}
