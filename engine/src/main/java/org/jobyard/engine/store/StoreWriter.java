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
      while (changes.size() < MAX_CHANGES_PER_TRANSACTION) {
        var next = queue.poll();
        if (next == null) {
          break;
        }
        batches.add(next);
        changes.addAll(next.changes());
      }
      long t0 = System.nanoTime();
      try {
        store.apply(changes);
        observer.transaction(changes.size(), System.nanoTime() - t0, true);
        transactions++;
        changesWritten += changes.size();
        for (var b : batches) {
          b.onCommitted().run();
        }
      } catch (RuntimeException e) {
        observer.transaction(changes.size(), System.nanoTime() - t0, false);
        LOG.error("the job store refused {} change(s): {}", changes.size(), e.getMessage());
        for (var b : batches) {
          b.onFailed().accept(e);
        }
        batches.clear();
        // A store that fails is fatal for the engine: the supervisor decides what happens next.
        throw e;
      }
      batches.clear();
      if (stopping && queue.isEmpty()) {
        return;
      }
    }
  }
}
