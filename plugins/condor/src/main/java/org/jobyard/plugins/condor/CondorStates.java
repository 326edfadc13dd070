package org.jobyard.plugins.condor;

import java.util.Set;
import org.jobyard.api.JobStatus;
import org.jobyard.plugins.condor.CondorListings.Ad;

/**
 * Maps a job ad onto the SPI's states. {@code JobStatus=4} is not success: the exit attributes
 * decide. A hold the job cannot recover from by a release (an input that is missing, an output
 * stream that cannot be opened, a walltime or memory limit exceeded) ends the job as failed; any
 * other hold is {@link JobStatus.Held} with the pool's reason, left to the user (and the engine's
 * held timeout).
 */
final class CondorStates {
  /** Put on RemoveReason when the backend removes a job it reported failed, to read it back. */
  static final String FAILED_REMOVAL = "jobyard: failed: ";

  /**
   * HoldReasonCodes that are failures (HTCondor's {@code CONDOR_HOLD_CODE}): 6 cannot start the
   * executable, 7-10 cannot open stdin/stdout/stderr, 12 output transfer, 13 input transfer, 14
   * initial directory, 22 user log, 23 user account, 32/33 transfer size limits, 34 memory or
   * other resource exceeded, 35 container image, 43/44 pre/post script, 46 allowed_job_duration,
   * 47 allowed_execute_duration.
   */
  static final Set<Integer> FAILING_HOLDS = Set.of(6, 7, 8, 9, 10, 12, 13, 14, 22, 23, 32, 33,
      34, 35, 43, 44, 46, 47);

  private CondorStates() {}

  static JobStatus of(Ad ad) {
    return switch (ad.status()) {
      case 1 -> new JobStatus.Pending("Idle", null);
      case 2 -> new JobStatus.Running("Running");
      case 6 -> new JobStatus.Running("TransferringOutput");
      case 7 -> new JobStatus.Running("Suspended");
      case 3 -> removed(ad);
      case 4 -> completed(ad);
      case 5 -> held(ad);
      default -> new JobStatus.Unknown("HTCondor job " + ad.id() + " has JobStatus "
          + ad.status() + ", which Jobyard does not know");
    };
  }

  /** Whether the job is held for a reason that a release cannot cure: it has failed. */
  static boolean failingHold(Ad ad) {
    return ad.status() == 5 && ad.holdReasonCode() != null
        && FAILING_HOLDS.contains(ad.holdReasonCode());
  }

  private static JobStatus held(Ad ad) {
    var reason = holdText(ad.holdReason(), ad.holdReasonCode(), ad.holdReasonSubCode());
    if (failingHold(ad)) {
      return new JobStatus.Failed(-1, "Held", reason);
    }
    return new JobStatus.Held("Held", reason);
  }

  private static JobStatus completed(Ad ad) {
    if (Boolean.TRUE.equals(ad.exitBySignal())) {
      var signal = ad.exitSignal();
      return new JobStatus.Failed(signal == null ? -1 : 128 + signal, "Completed",
          "killed by signal " + (signal == null ? "(unknown)" : signal));
    }
    if (ad.exitCode() == null) {
      return new JobStatus.Failed(-1, "Completed", "HTCondor reported no ExitCode");
    }
    return new JobStatus.Exited(ad.exitCode(), "Completed", null);
  }

  private static JobStatus removed(Ad ad) {
    var why = ad.removeReason();
    if (why != null && why.startsWith(FAILED_REMOVAL)) {
      // condor_rm appends " (by user NAME)" to the reason it was given
      return new JobStatus.Failed(-1, "Removed", why.substring(FAILED_REMOVAL.length())
          .replaceFirst(" \\(by user [^)]*\\)$", ""));
    }
    if (ad.lastHoldReasonCode() != null && FAILING_HOLDS.contains(ad.lastHoldReasonCode())) {
      return new JobStatus.Failed(-1, "Removed",
          holdText(ad.lastHoldReason(), ad.lastHoldReasonCode(), null));
    }
    return new JobStatus.Cancelled("Removed", why);
  }

  /** The hold reason as a user reads it: the pool's words and its codes. */
  static String holdText(String reason, Integer code, Integer subCode) {
    var sb = new StringBuilder(reason == null ? "held" : reason);
    if (code != null) {
      sb.append(" (HoldReasonCode ").append(code);
      if (subCode != null && subCode != 0) {
        sb.append('/').append(subCode);
      }
      sb.append(')');
    }
    return sb.toString();
  }
}
