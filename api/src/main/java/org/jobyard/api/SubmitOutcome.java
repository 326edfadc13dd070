package org.jobyard.api;

import static java.util.Objects.requireNonNull;

/** What became of one job of a (bulk) submission. */
public sealed interface SubmitOutcome {

  String jobId();

  /** The batch system has the job. */
  record Accepted(JobRef job) implements SubmitOutcome {
    public Accepted {
      requireNonNull(job, "job is null");
    }

    @Override
    public String jobId() {
      return job.jobId();
    }
  }

  /**
   * The batch system did not take the job. {@link BackendException#isRetryable()} tells whether
   * the same cluster may take it later; if not, the engine tries the job's next cluster.
   */
  record Rejected(String jobId, BackendException error) implements SubmitOutcome {
    public Rejected {
      requireNonNull(jobId, "jobId is null");
      requireNonNull(error, "error is null");
    }
  }
}
