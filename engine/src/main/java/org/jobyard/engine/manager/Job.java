package org.jobyard.engine.manager;

import java.time.Instant;
import java.util.List;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.api.SubmitRequest;
import org.jobyard.engine.fairshare.FairQueue;
import org.jobyard.engine.store.AttemptRow;
import org.jobyard.engine.store.JobRow;
import org.jobyard.engine.store.StoredJson;

/** A live job as the manager holds it. Mutable, and touched only on the manager's thread. */
final class Job {
  final String id;
  final long seq;
  final String owner;
  final String name;
  final String session;
  final String specJson;
  private final List<String> defaultClusters;
  private JobSpec spec; // parsed when first needed: recovering 100,000 jobs must stay fast
  final Instant createdAt;
  JobRow.Desired desired;
  JobState state;
  int attempt;
  int clusterIndex;
  int retriesLeft;
  Integer exitCode;
  String reason;

  // the current attempt
  String cluster;
  JobRef ref;
  /** {@code ref}'s attributes as stored, serialized once when the ref is adopted. */
  private String attributesJson;
  String nativeState;
  JobState attemptState;
  Instant attemptCreatedAt;
  /** When the attempt was first seen running, and when it ended: see {@link #attemptRow}. */
  Instant attemptStartedAt;
  Instant attemptEndedAt;
  long unknownSince;
  /** Whether the lost clock already ran out once and a lookup found the job again. */
  boolean lostChecked;
  /** Since when the batch system holds the attempt without the user having asked; 0: not held. */
  long heldSince;
  boolean collecting;
  boolean lookupNeeded;
  /** Why the attempt's submission is in doubt (logged when its lookup resolves it); or null. */
  String doubt;
  /**
   * Whether that doubt comes from a plugin bug (a RuntimeException from submit): once the lookup
   * finds no job, the attempt fails instead of meeting the same bug again.
   */
  boolean doubtFromBug;
  long cancelSentAt;
  /** While a retry waits out its {@code retry_delay}: when it may be submitted (epoch ms); else 0. */
  long notBefore;

  Job(String id, long seq, String owner, String name, String session, JobSpec spec,
      String specJson, List<String> defaultClusters, Instant createdAt) {
    this.id = id;
    this.seq = seq;
    this.owner = owner;
    this.name = name;
    this.session = session;
    this.spec = spec;
    this.specJson = specJson;
    this.defaultClusters = defaultClusters;
    this.createdAt = createdAt;
  }

  /** What the fair-share queue reads of a job. */
  static final FairQueue.Keys<Job> FAIR_KEYS = new FairQueue.Keys<>() {
    @Override
    public String user(Job job) {
      return job.owner;
    }

    @Override
    public String session(Job job) {
      return job.session;
    }

    @Override
    public int priority(Job job) {
      return job.spec().priority();
    }

    @Override
    public long seq(Job job) {
      return job.seq;
    }
  };

  JobSpec spec() {
    if (spec == null) {
      spec = StoredJson.spec(id, specJson);
    }
    return spec;
  }

  /** The attempt's native job, as the backend described it; {@code null} for none yet. */
  void adopt(JobRef newRef) {
    ref = newRef;
    attributesJson = newRef == null ? null : StoredJson.attributes(newRef.attributes());
  }

  /**
   * The attempt's native job as the store holds it: its attributes document is kept as read, not
   * written again (recovering 100,000 jobs would otherwise serialize each one back).
   */
  void adoptStored(String nativeId, String storedAttributes) {
    ref = new JobRef(id, nativeId, StoredJson.attributes(storedAttributes));
    // none, or unreadable (read as none): written back as none, as adopt would
    attributesJson = ref.attributes().isEmpty() ? "{}" : storedAttributes;
  }

  /** {@code ref}'s attributes as stored ("{}" for none). */
  String attributesJson() {
    return attributesJson == null ? "{}" : attributesJson;
  }

  /** The clusters the job may run on, in order. */
  List<String> clusters() {
    var own = spec().clusters();
    return own.isEmpty() ? defaultClusters : own;
  }

  String currentCluster() {
    var list = clusters();
    return clusterIndex < list.size() ? list.get(clusterIndex) : null;
  }

  SubmitRequest request() {
    return new SubmitRequest(id, attempt, spec());
  }

  JobRow row(Instant now) {
    return new JobRow(id, seq, name, owner, session, specJson, desired, state,
        attempt, clusterIndex, retriesLeft, exitCode, reason, createdAt, now);
  }

  /**
   * The attempt as stored. Every write of it passes here, so its start and end are stamped here:
   * the first write that sees it running (or ended after running) and the first that sees it
   * ended.
   */
  AttemptRow attemptRow(String backend, Instant now) {
    if (attemptStartedAt == null && attemptState == JobState.RUNNING) {
      attemptStartedAt = now;
    }
    if (attemptEndedAt == null && attemptState != null && attemptState.isTerminal()) {
      attemptEndedAt = now;
    }
    return new AttemptRow(id, attempt, cluster, backend, ref == null ? null : ref.nativeId(),
        nativeState, attemptState, exitCode, reason, attributesJson, attemptCreatedAt, now,
        attemptStartedAt, attemptEndedAt);
  }
}
