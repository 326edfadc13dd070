package org.jobyard.engine.store;

import java.time.Instant;
import org.jobyard.api.JobState;

/**
 * One row of the backend table {@code attempts}: a job's try on one cluster. Kept after the job
 * ends (until it is flushed): {@code createdAt} is when it was submitted, {@code startedAt} when
 * it was first seen running and {@code endedAt} when it ended ({@code null}: not seen, or not
 * yet).
 */
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
    Instant updatedAt,
    Instant startedAt,
    Instant endedAt) {}
