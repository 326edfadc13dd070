package org.jobyard.api;

import static java.util.Objects.requireNonNull;

/**
 * What became of one job of a (bulk) submission: the batch system took it ({@link Accepted}),
 * surely did not ({@link Rejected}), or may have ({@link InDoubt}).
 */
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

  /**
   * The submission may or may not have reached the batch system: the command was sent but its
   * answer was lost (a timeout, a connection dropped after sending, an exit the backend cannot
   * classify, sbatch's "Socket timed out on send/recv operation", which Slurm follows by creating
   * the job anyway). The engine answers it with {@link Backend#lookup} of the same attempt by its
   * tag, repeated with back-off until the batch system answers, and submits the attempt again only
   * if lookup finds nothing; it never submits an in-doubt attempt a second time blindly.
   *
   * <p>Return this rather than {@link Rejected} whenever you cannot tell: a {@code Rejected}
   * outcome tells the engine the batch system surely does not have the job.
   *
   * @param reason what happened, for the log ("sbatch: Socket timed out on send/recv operation")
   */
  record InDoubt(String jobId, String reason) implements SubmitOutcome {
    public InDoubt {
      requireNonNull(jobId, "jobId is null");
      requireNonNull(reason, "reason is null");
    }
  }
}
