package org.jobyard.engine.store;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit: one thread takes every batch of changes that is waiting and writes them all in one
 * transaction, then reports each batch's outcome. So the job manager never waits on the database,
 * and a burst of state changes costs one commit, not one per job.
 */
public final class StoreWriter implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(StoreWriter.class);
  private static final int MAX_CHANGES_PER_TRANSACTION = 20_000;
  /** The longest pause between two tries of a store that is away. */
  private static final long MAX_BACKOFF_MILLIS = 5_000;

  /** Changes to write, with what to do once they are durable (or not). */
  public record Batch(List<Change> changes, Runnable onCommitted, Consumer<Throwable> onFailed) {}

  /** Told of every transaction the writer tried (for metrics); called on the writer's thread. */
  @FunctionalInterface
  public interface CommitObserver {
    CommitObserver NONE = (changes, nanos, committed) -> {};

    void transaction(int changes, long nanos, boolean committed);
  }

  private final JobStore store;
  private final CommitObserver observer;
  private final LinkedBlockingQueue<Batch> queue = new LinkedBlockingQueue<>();
  private volatile boolean stopping;
  private volatile long transactions;
  private volatile long changesWritten;

  public StoreWriter(JobStore store) {
    this(store, CommitObserver.NONE);
  }

  public StoreWriter(JobStore store, CommitObserver observer) {
    this.store = store;
    this.observer = java.util.Objects.requireNonNull(observer, "observer is null");
  }

  public void submit(Batch batch) {
    queue.add(batch);
  }

  /** Asks the loop to finish what is queued and return. */
  public void stop() {
    stopping = true;
    queue.add(new Batch(List.of(), () -> {}, e -> {}));
  }

  public long transactions() {
    return transactions;
  }

  public long changesWritten() {
    return changesWritten;
  }

  /** Adds queued batches to the transaction being built, up to its size limit. */
  private void drainInto(List<Batch> batches, List<Change> changes) {
    while (changes.size() < MAX_CHANGES_PER_TRANSACTION) {
      var next = queue.poll();
      if (next == null) {
        return;
      }
      batches.add(next);
      changes.addAll(next.changes());
    }
  }

  @Override
  public void run() {
    var batches = new ArrayList<Batch>();
    while (true) {
      try {
        batches.add(queue.take());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      var changes = new ArrayList<Change>();
      changes.addAll(batches.getFirst().changes());
      drainInto(batches, changes);
      long outageStart = 0;
      var backoff = 100L;
      while (true) {
        long t0 = System.nanoTime();
        try {
          store.apply(changes);
          observer.transaction(changes.size(), System.nanoTime() - t0, true);
          break;
        } catch (StoreUnavailableException e) {
          // an outage, not a bug: keep the changes (nothing was acknowledged on them) and try
          // again, with back-off, for as long as it takes; later batches join the retry
          if (outageStart == 0) {
            outageStart = System.nanoTime();
            LOG.warn("the job store is unavailable; {} change(s) wait, retrying until it is "
                + "back: {}", changes.size(), e.getMessage());
          }
          try {
            Thread.sleep(backoff); // the back-off itself, not a wait for a condition
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            LOG.warn("store writer stopped during a store outage; {} change(s) not written",
                changes.size());
            return;
          }
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
          drainInto(batches, changes);
        } catch (RuntimeException | Error e) {
          // (an Error too: a JDBC driver's assertion on a connection that broke mid-batch must
          // not leave the batches unanswered and the manager waiting for them)
          observer.transaction(changes.size(), System.nanoTime() - t0, false);
          LOG.error("the job store refused {} change(s): {}", changes.size(), e.getMessage());
          for (var b : batches) {
            b.onFailed().accept(e);
          }
          batches.clear();
          // A store that refuses a write is a bug: the supervisor decides what happens next.
          throw e;
        }
      }
      if (outageStart != 0) {
        LOG.info("the job store is back after {}s; wrote {} waiting change(s)",
            java.time.Duration.ofNanos(System.nanoTime() - outageStart).toSeconds(),
            changes.size());
      }
      transactions++;
      changesWritten += changes.size();
      for (var b : batches) {
        b.onCommitted().run();
      }
      batches.clear();
      if (stopping && queue.isEmpty()) {
        // the figure a throughput run is judged by: commits per job (the metric is
        // jobyard_store_commit_changes, whose count is the transactions)
        LOG.info("store writer stopped: {} transaction(s) of {} change(s)", transactions,
            changesWritten);
        return;
      }
    }
  }
}
