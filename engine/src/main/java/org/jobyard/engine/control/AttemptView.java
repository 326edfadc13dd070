package org.jobyard.engine.control;

import java.time.Duration;
import java.time.Instant;
import org.jobyard.engine.store.AttemptRow;

/**
 * One attempt of a job as the API, {@code show} and {@code run --trace} show it; the plugin's
 * private attributes stay in the store. {@code createdAt} is when it was submitted,
 * {@code startedAt} when first seen running, {@code endedAt} when it ended ({@code null}: not
 * seen, or not yet); {@code wallSeconds} runs from the start (else the submission) to the end.
 */
public record AttemptView(int attempt, String cluster, String backend, String nativeId,
    String nativeState, String state, Integer exitCode, String reason, Instant createdAt,
    Instant updatedAt, Instant startedAt, Instant endedAt, Double wallSeconds) {

  public static AttemptView of(AttemptRow a) {
    var from = a.startedAt() != null ? a.startedAt() : a.createdAt();
    Double wall = a.endedAt() == null ? null
        : Duration.between(from, a.endedAt()).toMillis() / 1000.0;
    return new AttemptView(a.attempt(), a.cluster(), a.backend(), a.nativeId(), a.nativeState(),
        a.state().name(), a.exitCode(), a.reason(), a.createdAt(), a.updatedAt(), a.startedAt(),
        a.endedAt(), wall);
  }
}
