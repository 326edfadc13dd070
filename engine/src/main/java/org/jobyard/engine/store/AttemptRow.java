package org.jobyard.engine.store;

import java.time.Instant;
import org.jobyard.api.JobState;

/** One row of the backend table {@code attempts}: a job's try on one cluster. */
public record AttemptRow(
    String jobId,
    int attempt,
    String cluster,
    String backend,
    String nativeId,
    String nativeState,
    JobState state,
    Integer exitCode,
    String reason,
    String attributes,
    Instant createdAt,
    Instant updatedAt) {}
