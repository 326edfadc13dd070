package org.jobyard.engine.manager;

import java.util.Comparator;
import java.util.List;
import org.jobyard.api.JobState;
import org.jobyard.engine.store.JobRow;

/**
 * i18: when several engines share the store, an engine keeps queued in memory at most what it can
 * run soon for a cluster (twice its {@code max_jobs}, counting what runs); the newest queued jobs
 * beyond that go back to the store, where whichever engine has room for the cluster claims them
 * ({@code lease.LeaseService}). So jobs submitted all to one busy engine run on every engine.
 */
public final class Overflow {
  private Overflow() {}

  /** How many jobs an engine holds for a cluster before it gives the newest queued ones away. */
  public static long holds(int limit) {
    return 2L * limit;
  }

  /** Removes and returns the cluster's queued jobs beyond what the engine holds, newest first. */
  static List<Job> take(Cluster c) {
    long over = (long) c.live.size() + c.queue.size() + c.toSubmit.size() - holds(c.limit);
    if (over <= 0) {
      return List.of();
    }
    var surplus = c.queue.items().stream()
        .filter(j -> j.state == JobState.QUEUED && j.desired == JobRow.Desired.RUN)
        .sorted(Comparator.comparingLong((Job j) -> j.seq).reversed()).limit(over).toList();
    surplus.forEach(c.queue::remove);
    return surplus;
  }
}
