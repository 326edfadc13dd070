package org.jobyard.plugins.slurm;

import java.util.regex.Pattern;
import org.jobyard.api.JobStatus;
import org.jobyard.plugins.slurm.SlurmListings.AcctRow;
import org.jobyard.plugins.slurm.SlurmListings.ExitCode;
import org.jobyard.plugins.slurm.SlurmListings.Markers;
import org.jobyard.plugins.slurm.SlurmListings.QueueRow;

/**
 * Slurm's job states onto {@link JobStatus}, keeping Slurm's state and reason. Pure.
 *
 * <p>The exit code comes from the job folder's {@code exitcode} file when there is one (written
 * by the batch script itself), else from what Slurm says. A job that squeue no longer lists is
 * read from its folder, then from accounting; when neither knows, it is {@link JobStatus.Unknown},
 * never failed.
 */
final class SlurmStates {

  private SlurmStates() {}

  /** Whether squeue's state needs the job folder read to give a result. */
  static boolean needsMarkers(String state) {
    return switch (state) {
      case "COMPLETED", "FAILED", "COMPLETING" -> true;
      default -> false;
    };
  }

  /** A job squeue lists. {@code markers} is null when the folder was not read. */
  static JobStatus fromQueue(QueueRow row, Markers markers) {
    var state = row.state();
    var reason = row.reason();
    return switch (state) {
      case "PENDING" -> reason.startsWith("JobHeld") ? new JobStatus.Held(state, reason)
          : new JobStatus.Pending(state, reason);
      case "CONFIGURING", "REQUEUED", "REQUEUE_FED" -> new JobStatus.Pending(state, reason);
      case "REQUEUE_HOLD", "SPECIAL_EXIT", "RESV_DEL_HOLD", "SUSPENDED", "STOPPED" ->
          new JobStatus.Held(state, reason);
      case "RUNNING", "SIGNALING", "STAGE_OUT", "RESIZING" -> new JobStatus.Running(state);
      // COMPLETING hides the final state (COMPLETED, CANCELLED, TIMEOUT...) while Slurm cleans
      // up: the file is the result only when no signal ended the script, else wait for the state
      case "COMPLETING" -> completing(state, reason, markers);
      case "COMPLETED", "FAILED" -> ended(state, reason, markers, row.exit());
      case "CANCELLED" -> new JobStatus.Cancelled(state, reasonOrNull(reason));
      // killed by Slurm, so no exit code of its own: 22.05's squeue prints 0, 24.11's 0:15
      case "TIMEOUT" -> new JobStatus.Failed(-1, state, "walltime exceeded");
      case "OUT_OF_MEMORY" -> new JobStatus.Failed(code(row.exit()), state, "out of memory");
      case "NODE_FAIL" -> new JobStatus.Failed(-1, state, "node failure" + detail(reason));
      case "BOOT_FAIL" -> new JobStatus.Failed(-1, state, "node boot failure" + detail(reason));
      case "DEADLINE" -> new JobStatus.Failed(-1, state, "deadline reached" + detail(reason));
      case "PREEMPTED" -> new JobStatus.Failed(-1, state, "preempted" + detail(reason));
      case "REVOKED" -> new JobStatus.Failed(-1, state, "revoked by the federation");
      default -> new JobStatus.Unknown("Slurm reports state " + state + detail(reason)
          + ", which this backend does not know");
    };
  }

  /**
   * A job squeue did not list: what its folder says, then accounting ({@code acct} may be null).
   */
  static JobStatus fromFolder(Markers markers, AcctRow acct, String dir) {
    if (markers != null && markers.exitCode() != null) {
      int code = markers.exitCode();
      if (markers.signal() != null) {
        if (markers.cancelled()) {
          return new JobStatus.Cancelled("CANCELLED", "cancelled (from the job folder: the job "
              + "has left squeue)");
        }
        if (acct == null) {
          return new JobStatus.Failed(code, "FAILED", "ended by SIG" + markers.signal()
              + " (walltime, preemption or cancel; from the job folder: the job has left squeue)");
        }
      } else {
        return new JobStatus.Exited(code, code == 0 ? "COMPLETED" : "FAILED",
            "from the job's exit-code file (the job has left squeue)");
      }
    }
    if (acct != null) {
      return fromQueue(new QueueRow(acct.id(), acct.state(), acct.reason(), acct.exit()), markers);
    }
    if (markers != null && markers.cancelled()) {
      return new JobStatus.Cancelled("CANCELLED", "cancelled before it ran (from the job folder: "
          + "the job has left squeue)");
    }
    if (markers == null || !markers.exists()) {
      return new JobStatus.Unknown("not listed by squeue, and its folder " + dir
          + " is not there");
    }
    return new JobStatus.Unknown("not listed by squeue (Slurm forgets finished jobs after "
        + "MinJobAge) and no exit-code file in " + dir + " yet");
  }

  private static JobStatus completing(String state, String reason, Markers markers) {
    if (markers == null || markers.exitCode() == null) {
      return new JobStatus.Running(state);
    }
    if (markers.signal() == null && markers.exitCode() <= 128) {
      return ended(state, reason, markers, null);
    }
    // killed: the script's trap may not have run yet (its payload ended on the same SIGTERM and
    // the script finished first), so the final state tells a cancel from a job's own exit 143
    return markers.cancelled() ? new JobStatus.Cancelled(state, "cancelled")
        : new JobStatus.Running(state);
  }

  private static JobStatus ended(String state, String reason, Markers markers, ExitCode exit) {
    if (markers != null && markers.exitCode() != null) {
      int code = markers.exitCode();
      if (markers.signal() != null) {
        return new JobStatus.Failed(code, state, "ended by SIG" + markers.signal()
            + detail(reason));
      }
      return new JobStatus.Exited(code, state, reasonOrNull(reason));
    }
    if (exit == null) {
      return "COMPLETED".equals(state) ? new JobStatus.Exited(0, state, reasonOrNull(reason))
          : new JobStatus.Failed(-1, state, reason.isEmpty() ? state : reason);
    }
    if (exit.signal() != 0) {
      return new JobStatus.Failed(-1, state, "killed by signal " + exit.signal()
          + detail(reason));
    }
    return new JobStatus.Exited(exit.code(), state, reasonOrNull(reason));
  }

  private static int code(ExitCode exit) {
    return exit == null || exit.signal() != 0 ? -1 : exit.code();
  }

  private static String reasonOrNull(String reason) {
    return reason == null || reason.isBlank() || reason.equals("None") ? null : reason;
  }

  /** 24.11's reason for a job a signal ended repeats the signal: RaisedSignal:9(Killed). */
  private static final Pattern RAISED_SIGNAL = Pattern.compile("RaisedSignal:\\d+\\((.+)\\)");

  private static String detail(String reason) {
    var r = reasonOrNull(reason);
    if (r == null) {
      return "";
    }
    var raised = RAISED_SIGNAL.matcher(r);
    return " (" + (raised.matches() ? raised.group(1) : r) + ")";
  }
}
