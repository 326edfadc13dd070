package org.jobyard.engine.retry;

import java.time.Duration;
import org.jobyard.api.JobSpec;

/**
 * What a job's {@code retry_on}, {@code retry_elsewhere}, {@code retry_delay}, {@code
 * retry_backoff} and {@code success_exit_codes} mean for one ended attempt. Pure; the manager asks and acts.
 */
public final class RetryRules {
  private RetryRules() {}

  /** Whether an attempt that exited with {@code exitCode} succeeded. */
  public static boolean succeeded(JobSpec spec, int exitCode) {
    return spec.successExitCodes().isEmpty() ? exitCode == 0
        : spec.successExitCodes().contains(exitCode);
  }

  /**
   * Whether a failed attempt may be retried (retries left aside): with no rule, every failure;
   * else an exit code it lists, or, when it says {@code lost}, an end without an exit code
   * ({@code lost}: lost, evicted, node failure, killed).
   */
  public static boolean covers(JobSpec spec, Integer exitCode, boolean lost) {
    var rule = spec.retryRule();
    if (rule == null || rule.exitCodes().isEmpty() && !rule.lost()) {
      return true; // no retry_on: any failure
    }
    return lost ? rule.lost() : exitCode != null && rule.exitCodes().contains(exitCode);
  }

  /** The index of the cluster a retry goes to: the next one with {@code retry_elsewhere}. */
  public static int clusterForRetry(JobSpec spec, int current, int clusterCount) {
    var rule = spec.retryRule();
    return rule != null && rule.elsewhere() && clusterCount > 0 ? (current + 1) % clusterCount
        : current;
  }

  /** The longest wait before a retry, however far the back-off grew: a day. */
  public static final Duration MAX_DELAY = Duration.ofDays(1);

  /**
   * How long after the failed attempt ended the {@code retry}-th retry (1 for the first) may be
   * submitted: {@code retry_delay} times {@code retry_backoff} to the power {@code retry - 1}, at
   * most {@link #MAX_DELAY}; zero without a delay.
   */
  public static Duration delay(JobSpec spec, int retry) {
    var rule = spec.retryRule();
    if (rule == null || rule.delay().isZero() || retry < 1) {
      return Duration.ZERO;
    }
    var millis = rule.delay().toMillis() * Math.pow(rule.backoff(), retry - 1);
    return millis >= MAX_DELAY.toMillis() ? MAX_DELAY : Duration.ofMillis((long) millis);
  }

  /** How many retries a job has had so far ({@code retries} minus what is left). */
  public static int retriesDone(JobSpec spec, int retriesLeft) {
    return Math.max(0, spec.retries() - retriesLeft);
  }
}
