package org.jobyard.engine.manager;

/**
 * A cluster's {@code submit_rate} (jobs per second) as a token bucket: a token per job, refilled
 * at the rate, holding at most a fifth of a second's worth (at least one job), so that no second
 * ever sees more than the rate plus that small burst. Owned by the manager's thread.
 */
final class SubmitPace {
  /** The burst a full bucket allows, in seconds of the rate. */
  static final double BURST_SECONDS = 0.2;
  private final double perSecond;
  private final double capacity;
  private double tokens;
  private long lastNanos;

  /** @param perSecond jobs per second; 0 for no limit */
  SubmitPace(double perSecond) {
    this.perSecond = perSecond;
    this.capacity = Math.max(1, perSecond * BURST_SECONDS);
    this.tokens = 1; // the first job goes at once, the burst builds up as time passes
    this.lastNanos = System.nanoTime();
  }

  boolean limited() {
    return perSecond > 0;
  }

  /** How many of {@code wanted} jobs may go now; they are taken from the bucket. */
  int take(int wanted, long nowNanos) {
    if (!limited()) {
      return wanted;
    }
    tokens = Math.min(capacity, tokens + (nowNanos - lastNanos) / 1e9 * perSecond);
    lastNanos = nowNanos;
    int granted = (int) Math.min(wanted, Math.floor(tokens));
    tokens -= granted;
    return granted;
  }

  /** Milliseconds until the next job may go (0 when one may go now). */
  long millisUntilNext(long nowNanos) {
    if (!limited()) {
      return 0;
    }
    double now = Math.min(capacity, tokens + (nowNanos - lastNanos) / 1e9 * perSecond);
    return now >= 1 ? 0 : (long) Math.ceil((1 - now) / perSecond * 1000);
  }
}
