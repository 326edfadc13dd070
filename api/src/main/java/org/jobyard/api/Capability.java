package org.jobyard.api;

/** Optional abilities of a {@link Backend}, declared up front rather than found by trial. */
public enum Capability {
  /** {@link Backend#submit} takes many jobs in one call. */
  BULK_SUBMIT,
  /** {@link Backend#hold} and {@link Backend#release}. */
  HOLD_RELEASE,
  /** Input and output files are staged by the backend ({@link JobSpec#inputFiles()}). */
  STAGING,
  /** {@link Backend#tail} reads a job's output where it runs. */
  LOG_ACCESS,
  /** Runs jobs with {@link JobSpec#steps() several steps}. */
  STEPS,
  /** Enforces {@link Resources#walltime()}. */
  WALLTIME,
  /** Starts {@link JobSpec.Placement#processes()} processes, {@code processesPerNode} at most. */
  PROCESSES,
  /** Gives a job {@link JobSpec.Placement#exclusive() whole nodes}. */
  EXCLUSIVE,
  /** Runs a job in a {@link JobSpec.Placement#reservation() reservation}. */
  RESERVATION,
  /** Requests {@link JobSpec.Placement#diskMb() local disk}. */
  DISK,
  /** Feeds a job's {@link JobSpec#stdin() standard input file} to it. */
  STDIN,
  /**
   * Lets a job see {@link JobSpec#inheritEnvironment() variables of the submitting environment}.
   * Without it, a job asking for any is refused; every backend must start jobs without them.
   */
  INHERIT_ENVIRONMENT,
  /**
   * {@link Backend#resume} restarts a failed native job where it failed (A-REX's {@code restart}):
   * the user's restart of a job whose last attempt failed on such a cluster continues that
   * attempt, on the same native job, instead of submitting a new one.
   */
  RESUME,
  /**
   * Takes inputs whose source is a URL ({@link JobSpec.FileTransfer#fromUrl()}): the cluster
   * downloads them itself (A-REX's data staging). Without it, a job naming one is refused at
   * submit.
   */
  URL_INPUTS
}
