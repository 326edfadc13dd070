package org.jobyard.engine.manager;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Optional;
import org.jobyard.api.JobState;
import org.jobyard.engine.dependency.DependencyGate;
import org.jobyard.engine.store.Change;
import org.jobyard.engine.store.JobStore;

/**
 * i20: applies the rules of {@link DependencyGate} (jobs' {@code after}) to live jobs: a job is
 * queued once what it waits for has ended as it must, and cancelled when that can no longer
 * happen. Used on the manager's thread.
 */
final class Dependencies {
  private final Actor actor;
  private final JobStore store;
  private final Clusters clusters;
  private final DependencyGate gate = new DependencyGate();
  private final ArrayDeque<Job> releasing = new ArrayDeque<>();

  Dependencies(Actor actor, JobStore store, Clusters clusters) {
    this.actor = actor;
    this.store = store;
    this.clusters = clusters;
  }

  /** Queues a job whose dependencies are met; otherwise it waits (reason says for what). */
  void queueUnlessWaiting(Job job) {
    switch (gate.check(job.id, job.spec().after(), this::known)) {
      case DependencyGate.Verdict.Ready r -> {
        if (job.reason != null && job.reason.startsWith("waiting for ")) {
          job.reason = null;
          actor.change(new Change.UpdateJob(job.row(Instant.now())));
        }
        clusters.get(job.currentCluster()).queue.add(job);
      }
      case DependencyGate.Verdict.Wait w -> {
        if (!w.reason().equals(job.reason)) {
          job.reason = w.reason();
          actor.change(new Change.UpdateJob(job.row(Instant.now())));
        }
      }
      case DependencyGate.Verdict.Never n ->
          actor.finish(job, Transitions.Event.CANCELLED, null, n.reason());
    }
  }

  /** A job's end wakes its dependents; a worklist, so a long chain of cancels is no recursion. */
  void releaseDependents(Job ended) {
    releasing.add(ended);
    if (releasing.size() > 1) {
      return; // the loop below, further up the stack, takes it
    }
    while (!releasing.isEmpty()) {
      var done = releasing.peekFirst();
      for (var id : gate.ended(done.id, new DependencyGate.Known(done.name, done.state))) {
        var job = actor.job(id);
        if (job != null && job.state == JobState.QUEUED) {
          queueUnlessWaiting(job);
        }
      }
      releasing.removeFirst();
    }
  }

  private Optional<DependencyGate.Known> known(String id) {
    var live = actor.job(id);
    if (live != null) {
      return Optional.of(new DependencyGate.Known(live.name, live.state));
    }
    return store.job(id).map(r -> new DependencyGate.Known(r.name(), r.state()));
  }
}
