package org.jobyard.engine.store;

import java.time.Instant;
import org.jobyard.api.JobState;

/** One row of the client table {@code jobs}. */
public record JobRow(
    String id,
    long seq,
    String name,
    String owner,
    String session,
    String spec,
    Desired desired,
    JobState state,
    int attempt,
    int clusterIndex,
    int retriesLeft,
    Integer exitCode,
    String reason,
    Instant createdAt,
    Instant updatedAt) {

  /** What the user wants of the job; the engine works towards it. */
  public enum Desired {
    RUN,
    CANCEL,
    PAUSE
  }
}
