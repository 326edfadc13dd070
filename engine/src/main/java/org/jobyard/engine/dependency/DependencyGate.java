package org.jobyard.engine.dependency;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.jobyard.api.JobSpec.Condition;
import org.jobyard.api.JobSpec.Dependency;
import org.jobyard.api.JobState;

/**
 * Decides whether a job may be queued given the jobs it waits for, and remembers who waits for
 * whom so that a job's end wakes exactly its dependents. Holds no state that matters after a
 * crash: the edges are in each job's stored spec and the states in the store, so the manager
 * asks again at start. Touched only on the manager's thread.
 */
public final class DependencyGate {
  /** What the gate knows of a job it is asked about: its name (for messages) and state. */
  public record Known(String name, JobState state) {}

  /** The answer for one job. */
  public sealed interface Verdict {
    /** Every dependency is met: queue the job. */
    record Ready() implements Verdict {}

    /** Some dependency has not ended yet; {@code reason} says which (for ps). */
    record Wait(String reason) implements Verdict {}

    /** Some dependency ended the wrong way or is gone: the job can never start. */
    record Never(String reason) implements Verdict {}
  }

  /** Dependency id to the ids of the jobs waiting for it. */
  private final Map<String, Set<String>> waiters = new HashMap<>();
  /**
   * How jobs ended lately: the store says so only once the manager's turn is committed, and
   * their dependents are asked within that turn. Bounded; older ends are in the store.
   */
  private final Map<String, Known> recentlyEnded = new java.util.LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Known> eldest) {
      return size() > 100_000;
    }
  };

  /**
   * Checks {@code after} (resolved to ids) of job {@code jobId}; when it must wait, registers it
   * with every dependency still running. {@code lookup} finds a job by id, live or ended.
   */
  public Verdict check(String jobId, List<Dependency> after,
      Function<String, Optional<Known>> lookup) {
    Function<String, Optional<Known>> find = id -> {
      var ended = recentlyEnded.get(id);
      return ended != null ? Optional.of(ended) : lookup.apply(id);
    };
    var open = new ArrayList<String>();
    for (var d : after) {
      var known = find.apply(d.job());
      if (known.isEmpty()) {
        return new Verdict.Never("dependency " + d.job() + " no longer exists (flushed?), so "
            + "its condition '" + word(d.condition()) + "' can never be met");
      }
      var k = known.get();
      var label = "'" + k.name() + "' (" + d.job() + ")";
      if (!k.state().isTerminal()) {
        open.add(label);
        continue;
      }
      if (!met(d.condition(), k.state())) {
        return new Verdict.Never("dependency " + label + " " + k.state().name()
            .toLowerCase(Locale.ROOT) + (d.condition() == Condition.FAILURE
                ? " but this job runs only after it fails" : ""));
      }
    }
    if (open.isEmpty()) {
      return new Verdict.Ready();
    }
    for (var d : after) {
      find.apply(d.job()).filter(k -> !k.state().isTerminal()).ifPresent(k ->
          waiters.computeIfAbsent(d.job(), x -> new LinkedHashSet<>()).add(jobId));
    }
    return new Verdict.Wait("waiting for " + (open.size() == 1 ? open.getFirst()
        : open.size() + " jobs: " + String.join(", ", open.subList(0, Math.min(3, open.size())))
            + (open.size() > 3 ? ", ..." : "")));
  }

  /** The jobs that waited for {@code endedId}, which has just ended; each is asked again. */
  public Set<String> ended(String endedId, Known how) {
    recentlyEnded.put(endedId, how);
    var w = waiters.remove(endedId);
    return w == null ? Set.of() : w;
  }

  /** The jobs some job waits for now (a copy). */
  public Set<String> awaited() {
    return Set.copyOf(waiters.keySet());
  }

  /** The jobs that waited for {@code goneId}, which no longer exists; each is asked again. */
  public Set<String> gone(String goneId) {
    var w = waiters.remove(goneId);
    return w == null ? Set.of() : w;
  }

  static boolean met(Condition condition, JobState ended) {
    return switch (condition) {
      case SUCCESS -> ended == JobState.SUCCEEDED;
      case ANY -> true;
      case FAILURE -> ended == JobState.FAILED || ended == JobState.CANCELLED;
    };
  }

  private static String word(Condition c) {
    return c.name().toLowerCase(Locale.ROOT);
  }
}
