package org.jobyard.engine.manager;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.jobyard.api.JobState;
import org.jobyard.engine.dependency.DependencyGate;
import org.jobyard.engine.store.Change;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreUnavailableException;

/**
 * i20: applies the rules of {@link DependencyGate} (jobs' {@code after}) to live jobs: a job is
 * queued once what it waits for has ended as it must, and cancelled when that can no longer
 * happen. Used on the manager's thread.
 *
 * <p>i18: when engines share the store, what a job waits for may be run by another engine (given
 * to the shared queue, claimed, taken over) and end there, unseen here: {@link #checkElsewhere}
 * reads those jobs' states from the store once a second.
 */
final class Dependencies {
  /** How often the store is asked about awaited jobs this engine does not hold. */
  static final long ELSEWHERE_CHECK_MILLIS = 1000;
  private final Actor actor;
  private final JobStore store;
  private final Clusters clusters;
  private final DependencyGate gate = new DependencyGate();
  private final ArrayDeque<Job> releasing = new ArrayDeque<>();
  private long nextElsewhereCheck;

  Dependencies(Actor actor, JobStore store, Clusters clusters) {
    this.actor = actor;
    this.store = store;
    this.clusters = clusters;
  }

  /** Queues a job whose dependencies are met; otherwise it waits (reason says for what). */
  void queueUnlessWaiting(Job job) {
    queueUnlessWaiting(job, this::known);
  }

  private void queueUnlessWaiting(Job job,
      Function<String, Optional<DependencyGate.Known>> known) {
    switch (gate.check(job.id, job.spec().after(), known)) {
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

  /**
   * i18: wakes the jobs waiting for jobs this engine does not hold once those have ended (or are
   * gone) in the store; every {@link #ELSEWHERE_CHECK_MILLIS} at most, and only when engines share
   * the store (a sole engine holds every live job, so its ends are seen here).
   */
  void checkElsewhere(long nowMillis) {
    if (store.engineId() == null || nowMillis < nextElsewhereCheck) {
      return;
    }
    nextElsewhereCheck = nowMillis + ELSEWHERE_CHECK_MILLIS;
    var elsewhere = gate.awaited().stream().filter(id -> actor.job(id) == null).toList();
    if (elsewhere.isEmpty()) {
      return;
    }
    Map<String, DependencyGate.Known> read = new HashMap<>();
    try {
      store.states(elsewhere).forEach((id, s) -> read.put(id,
          new DependencyGate.Known(s.name(), s.state())));
    } catch (StoreUnavailableException e) {
      return; // asked again at the next check, once the store is back
    }
    var woken = new LinkedHashSet<String>();
    for (var id : elsewhere) {
      var s = read.get(id);
      if (s == null) {
        woken.addAll(gate.gone(id));
      } else if (s.state().isTerminal()) {
        woken.addAll(gate.ended(id, s));
      }
    }
    // what was just read answers for those jobs; the rest as usual
    Function<String, Optional<DependencyGate.Known>> known =
        id -> Optional.ofNullable(read.get(id)).or(() -> known(id));
    for (var id : woken) {
      var job = actor.job(id);
      if (job != null && job.state == JobState.QUEUED) {
        queueUnlessWaiting(job, known);
      }
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
