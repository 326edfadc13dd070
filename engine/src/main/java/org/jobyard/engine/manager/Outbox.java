package org.jobyard.engine.manager;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jobyard.api.JobRef;
import org.jobyard.engine.store.Change;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoredJson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Side effects on native jobs that must happen even across a crash: a cancel of an abandoned
 * attempt, a cleanup. Each is recorded in the turn's batch, carried out once the batch is
 * committed, and until it succeeds tried again whenever its cluster answers (and at every start).
 * Used on the manager's thread.
 */
final class Outbox {
  private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);
  static final String CLEAN = "clean";
  static final String CANCEL = "cancel";

  private final Actor actor;
  private final JobStore store;
  private final Clusters clusters;
  /** Entries not yet carried out (their cluster did not answer), by id. */
  private final Map<Long, JobStore.OutboxEntry> pending = new HashMap<>();
  private long lastId;

  Outbox(Actor actor, JobStore store, Clusters clusters) {
    this.actor = actor;
    this.store = store;
    this.clusters = clusters;
  }

  void clear() {
    pending.clear();
  }

  /** At a start: the entries committed before a crash but not carried out are carried out now. */
  void recover() {
    lastId = store.maxOutboxId();
    store.outbox().forEach(this::run);
  }

  /** i18: entries taken over with another engine's jobs, unless already being carried out. */
  void adopt(List<Long> ids) {
    if (!ids.isEmpty()) {
      store.outbox(ids).stream().filter(e -> !pending.containsKey(e.id())).forEach(this::run);
    }
  }

  /** Records the action in this turn's batch; it runs once the batch is committed. */
  void record(String jobId, String action, String cluster, String nativeId,
      String attributesJson) {
    lastId = store.nextOutboxId(lastId); // i18: from a block of its own when engines share it
    var entry = new JobStore.OutboxEntry(lastId, jobId, action, StoredJson.write(Map.of(
        "cluster", cluster, "nativeId", nativeId, "attributes", attributesJson)));
    actor.change(new Change.InsertOutbox(entry.id(), entry.jobId(), entry.action(),
        entry.payload()));
    actor.afterCommit(() -> run(entry));
  }

  /**
   * The attempt is given up while its native job may still exist (lost, held too long): a cancel
   * of it goes to the outbox before the job may be submitted again, so the old attempt can never
   * run next to the new one once the cluster answers.
   */
  void abandon(Cluster c, Job job) {
    if (job.ref != null) {
      record(job.id, CANCEL, c.name, job.ref.nativeId(), job.attributesJson());
    }
  }

  /** The cluster's failed entries again, now that its back-off is over (each tick). */
  void retryDue(Cluster c) {
    if (!c.outbox.isEmpty() && !actor.stopping()) {
      var due = c.outbox.stream().map(pending::get).filter(e -> e != null).toList();
      c.outbox.clear();
      due.forEach(this::run);
    }
  }

  private void run(JobStore.OutboxEntry entry) {
    var payload = StoredJson.attributes(entry.payload());
    if (payload.isEmpty()) {
      LOG.warn("outbox entry {} unreadable, dropped: {}", entry.id(), entry.payload());
      actor.change(new Change.DeleteOutbox(entry.id()));
      return;
    }
    var c = clusters.get(payload.get("cluster"));
    if (c == null) {
      LOG.warn("cleanup of job {} skipped: cluster '{}' is no longer configured", entry.jobId(),
          payload.get("cluster"));
      actor.change(new Change.DeleteOutbox(entry.id()));
      return;
    }
    var ref = new JobRef(entry.jobId(), payload.get("nativeId"),
        StoredJson.attributes(payload.get("attributes")));
    pending.put(entry.id(), entry);
    c.outbox.remove(entry.id());
    actor.callStarted();
    var inc = actor.incarnation();
    var cancel = CANCEL.equals(entry.action());
    c.dispatch(cancel ? Cluster.Call.CANCEL : Cluster.Call.CLEAN, backend -> {
      if (cancel) {
        backend.cancel(List.of(ref));
      } else {
        backend.clean(ref);
      }
      return null;
    }, (none, error) -> actor.report(new Message.Cleaned(inc, entry.id(), error)));
  }

  void onCleaned(Message.Cleaned m) {
    actor.callEnded();
    var entry = pending.get(m.outboxId());
    var c = entry == null ? null
        : clusters.get(StoredJson.attributes(entry.payload()).get("cluster"));
    if (m.error() != null) {
      LOG.warn("{} of job {} (outbox {}) failed, will retry when the cluster answers: {}",
          entry == null ? "outbox entry" : entry.action(), entry == null ? "?" : entry.jobId(),
          m.outboxId(), m.error().getMessage());
      if (c != null) {
        c.lastError = m.error().getMessage();
        c.failed(actor.tuning().retryBackoff(), System.currentTimeMillis());
        c.outbox.add(m.outboxId());
      }
      return;
    }
    pending.remove(m.outboxId());
    if (c != null) {
      c.answered();
    }
    actor.change(new Change.DeleteOutbox(m.outboxId()));
  }
}
