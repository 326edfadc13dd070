package org.jobyard.api;

import static java.util.Objects.requireNonNull;

/**
 * What a backend observed about one job in one poll. The engine maps these onto {@link JobState}.
 *
 * <p>{@link Unknown} is not failure: a job missing from one listing, or a scheduler that did not
 * answer, must be reported as {@code Unknown}; the engine then waits (with a bound) and asks again.
 * Report {@link Failed} only when the authoritative source (accounting, history, exit-code file)
 * says so. Every status keeps the batch system's own words ({@code nativeState}, {@code reason})
 * for the user.
 */
public sealed interface JobStatus {

  String nativeState();

  /** Waiting in the batch system. */
  record Pending(String nativeState, String reason) implements JobStatus {
    public Pending {
      requireNonNull(nativeState, "nativeState is null");
    }
  }

  /** Running. */
  record Running(String nativeState) implements JobStatus {
    public Running {
      requireNonNull(nativeState, "nativeState is null");
    }
  }

  /** Held by the batch system or on request; release makes it pending again. */
  record Held(String nativeState, String reason) implements JobStatus {
    public Held {
      requireNonNull(nativeState, "nativeState is null");
    }
  }

  /** Ended with a known exit code; 0 is success. */
  record Exited(int exitCode, String nativeState, String reason) implements JobStatus {
    public Exited {
      requireNonNull(nativeState, "nativeState is null");
    }

    public boolean succeeded() {
      return exitCode == 0;
    }
  }

  /**
   * Ended without a usable exit code: killed by a signal, walltime or memory exceeded, node
   * failure. {@code exitCode} is -1 when there is none.
   */
  record Failed(int exitCode, String nativeState, String reason) implements JobStatus {
    public Failed {
      requireNonNull(nativeState, "nativeState is null");
      requireNonNull(reason, "reason is null");
    }
  }

  /** Ended because it was cancelled. */
  record Cancelled(String nativeState, String reason) implements JobStatus {
    public Cancelled {
      requireNonNull(nativeState, "nativeState is null");
    }
  }

  /** The backend cannot tell now. Never a reason to give up on the job. */
  record Unknown(String reason) implements JobStatus {
    public Unknown {
      requireNonNull(reason, "reason is null");
    }

    @Override
    public String nativeState() {
      return "UNKNOWN";
    }
  }
}
