package org.jobyard.plugins.arc;

import java.util.Locale;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import org.jobyard.api.JobStatus;

/**
 * A-REX's REST states as {@link JobStatus}. The live state comes from the job listing; an ended
 * job's exit code and failure text from its {@code diagnose} files.
 */
final class ArcStates {
  /** Every REST state: the listing filter takes one comma-separated {@code state} parameter. */
  static final String ALL = "ACCEPTING,ACCEPTED,PREPARING,PREPARED,SUBMITTING,QUEUING,RUNNING,"
      + "HELD,EXITINGLRMS,OTHER,EXECUTED,FINISHING,FINISHED,FAILED,KILLING,KILLED,WIPED";
  /** A-REX's failure text for a job killed on request. */
  static final String KILLED_TEXT = "Job is canceled by external request";
  private static final Pattern EXIT_CODE = Pattern.compile("(?m)^exitcode=(-?\\d+)\\s*$");

  private ArcStates() {}

  /** Whether the state is one of the three ends (WIPED is not: the job's results are gone). */
  static boolean ended(String state) {
    return switch (state) {
      case "FINISHED", "FAILED", "KILLED" -> true;
      default -> false;
    };
  }

  /** The status of a live (not ended) state; {@code null} state means the CE does not list it. */
  static JobStatus live(String state) {
    if (state == null) {
      return new JobStatus.Unknown("the CE does not list the job (removed from the CE, or "
          + "cleaned)");
    }
    return switch (state.toUpperCase(Locale.ROOT)) {
      case "ACCEPTING", "ACCEPTED", "PREPARING", "PREPARED", "SUBMITTING", "QUEUING" ->
          new JobStatus.Pending(state, waitReason(state));
      case "HELD" -> new JobStatus.Held(state, "held by the batch system behind the CE");
      case "RUNNING", "EXITINGLRMS", "OTHER", "EXECUTED", "FINISHING", "KILLING" ->
          new JobStatus.Running(state);
      case "WIPED" -> new JobStatus.Unknown("the CE wiped the job's session before its end "
          + "was seen");
      default -> new JobStatus.Unknown("the CE reports state '" + state + "'");
    };
  }

  private static String waitReason(String state) {
    return switch (state) {
      case "PREPARING" -> "staging inputs";
      case "PREPARED", "ACCEPTED" -> "waiting for a CE slot";
      case "SUBMITTING" -> "being handed to the batch system";
      case "QUEUING" -> "queued in the batch system";
      default -> "accepted by the CE";
    };
  }

  /**
   * The end of a job from its listed state, the {@code diag} file (holds {@code exitcode=N}) and
   * the {@code failed} file (A-REX's failure text; absent on success).
   */
  static JobStatus end(String state, String diag, String failed) {
    var code = exitCode(diag);
    var reason = failed == null ? null : failed.strip();
    return switch (state) {
      case "KILLED" -> new JobStatus.Cancelled(state, reason);
      case "FINISHED" -> new JobStatus.Exited(code.orElse(0), state, null);
      default -> {
        // the listing computes states from control files and says FAILED for a killed job too
        if (reason != null && reason.contains(KILLED_TEXT)) {
          yield new JobStatus.Cancelled(state, reason);
        }
        // "LRMS error: (3) Job finished with wrong exit code - 3 != 0": the program's own exit
        if (code.isPresent() && code.getAsInt() > 0 && reason != null
            && reason.contains("wrong exit code")) {
          yield new JobStatus.Exited(code.getAsInt(), state, reason);
        }
        yield new JobStatus.Failed(code.orElse(-1), state,
            reason == null || reason.isEmpty() ? "the CE reports FAILED without a reason" : reason);
      }
    };
  }

  static OptionalInt exitCode(String diag) {
    if (diag == null) {
      return OptionalInt.empty();
    }
    var m = EXIT_CODE.matcher(diag);
    OptionalInt last = OptionalInt.empty();
    while (m.find()) {
      last = OptionalInt.of(Integer.parseInt(m.group(1)));
    }
    return last;
  }
}
