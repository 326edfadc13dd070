package org.jobyard.api;

import static java.util.Objects.requireNonNull;

/**
 * One job to submit.
 *
 * @param jobId the engine's identity of the job; the backend must attach it to the native job
 *     (job name, comment, attribute, marker file) so that {@link Backend#lookup} can find it after
 *     a crash
 * @param attempt 1 for the first attempt, then 2, 3... on retries
 * @param spec what to run
 */
public record SubmitRequest(String jobId, int attempt, JobSpec spec) {
  public SubmitRequest {
    requireNonNull(jobId, "jobId is null");
    requireNonNull(spec, "spec is null");
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt must be >= 1, got " + attempt);
    }
  }

  /** The identity tag of this attempt, unique across retries: {@code <jobId>.<attempt>}. */
  public String tag() {
    return jobId + "." + attempt;
  }
}
