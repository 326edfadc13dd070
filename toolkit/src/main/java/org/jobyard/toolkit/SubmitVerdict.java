package org.jobyard.toolkit;

import org.jobyard.api.BackendException;
import org.jobyard.api.SubmitOutcome;

/**
 * What a failed submit command means for the job it carried, decided by the plugin's own parser
 * of its batch system's messages; {@link #outcome} turns it into what the engine acts on.
 */
public enum SubmitVerdict {
  /** The batch system refused the job (a bad option, an unknown queue): the same submit fails. */
  REFUSED,
  /** Nothing was submitted, but a later try may work (the scheduler is busy or down). */
  NOT_NOW,
  /** The job may have been taken: the engine looks it up by its tag before it submits again. */
  IN_DOUBT;

  /**
   * The verdict that the exit code alone supports, for a parser that recognised no message:
   * 126 and 127 (the shell could not run the program at all) mean nothing was sent; any other
   * failure might have reached the batch system, so it is in doubt.
   */
  public static SubmitVerdict ofExitCode(int exitCode) {
    return exitCode == 126 || exitCode == 127 ? REFUSED : IN_DOUBT;
  }

  /** The outcome for the job, with a message that names the job and the batch system's words. */
  public SubmitOutcome outcome(String jobId, String message) {
    return switch (this) {
      case REFUSED -> new SubmitOutcome.Rejected(jobId, BackendException.rejected(message));
      case NOT_NOW -> new SubmitOutcome.Rejected(jobId, new BackendException(message, true));
      case IN_DOUBT -> new SubmitOutcome.InDoubt(jobId, message);
    };
  }
}
