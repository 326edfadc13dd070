package org.jobyard.engine.manager;

import java.time.Instant;
import java.util.List;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.api.SubmitRequest;
import org.jobyard.engine.store.AttemptRow;
import org.jobyard.engine.store.JobRow;

/** A live job as the manager holds it. Mutable, and touched only on the manager's thread. */
final class Job {
  final String id;
  final long seq;
  final String owner;
  final JobSpec spec;
  final String specJson;
  final List<String> clusters;
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
  String nativeState;
  JobState attemptState;
  Instant attemptCreatedAt;
  long unknownSince;
  boolean collecting;
  boolean lookupNeeded;
  long cancelSentAt;

  Job(String id, long seq, String owner, JobSpec spec, String specJson, List<String> clusters,
      Instant createdAt) {
    this.id = id;
    this.seq = seq;
    this.owner = owner;
    this.spec = spec;
    this.specJson = specJson;
    this.clusters = clusters;
    this.createdAt = createdAt;
  }

  String currentCluster() {
    return clusterIndex < clusters.size() ? clusters.get(clusterIndex) : null;
  }

  SubmitRequest request() {
    return new SubmitRequest(id, attempt, spec);
  }

  JobRow row(Instant now) {
    return new JobRow(id, seq, spec.name(), owner, spec.session(), specJson, desired, state,
        attempt, clusterIndex, retriesLeft, exitCode, reason, createdAt, now);
  }

  AttemptRow attemptRow(String backend, String attributesJson, Instant now) {
    return new AttemptRow(id, attempt, cluster, backend, ref == null ? null : ref.nativeId(),
        nativeState, attemptState, exitCode, reason, attributesJson, attemptCreatedAt, now);
  }
}
