package org.jobyard.engine.manager;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Retries that wait out their {@code retry_delay}: each job stays here until its {@link
 * Job#notBefore}, then goes back to its cluster's queue. Touched only on the manager's thread.
 */
final class RetryWait {
  private final PriorityQueue<Job> waiting =
      new PriorityQueue<>(Comparator.comparingLong((Job j) -> j.notBefore));

  /**
   * The first millisecond not before {@code t}: the store keeps microseconds, so truncating would
   * let a retry start a fraction of a millisecond before its delay is over.
   */
  static long notBefore(java.time.Instant t) {
    return t.toEpochMilli() + (t.getNano() % 1_000_000 == 0 ? 0 : 1);
  }

  void hold(Job job) {
    waiting.add(job);
  }

  /**
   * The jobs whose time came by {@code nowMillis} and that still wait to be retried (a job paused,
   * resumed or cancelled meanwhile went its own way and is dropped).
   */
  List<Job> due(long nowMillis) {
    var out = new ArrayList<Job>();
    while (!waiting.isEmpty() && waiting.peek().notBefore <= nowMillis) {
      var job = waiting.poll();
      if (job.notBefore > 0 && job.state == org.jobyard.api.JobState.QUEUED) {
        job.notBefore = 0;
        out.add(job);
      }
    }
    return out;
  }

  /** How many retries wait to go back to {@code cluster}'s queue (a reload must not lose them). */
  int waitingFor(String cluster) {
    int n = 0;
    for (var job : waiting) {
      if (job.notBefore > 0 && job.state == org.jobyard.api.JobState.QUEUED
          && cluster.equals(job.currentCluster())) {
        n++;
      }
    }
    return n;
  }
}
