package org.jobyard.engine.manager;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * How long to leave a cluster alone after calls it refused or did not answer: exponential, capped,
 * with jitter, so that engines (and clusters) that failed together do not come back together and
 * a login node that is struggling is not hammered at a fixed rate.
 */
final class Backoff {
  /** Uniform in [0, 1): the jitter's source. */
  static final DoubleSupplier RANDOM = () -> java.util.concurrent.ThreadLocalRandom.current()
      .nextDouble();
  /** The longest wait, unless the configured base is longer still. */
  static final Duration CAP = Duration.ofMinutes(2);

  private Backoff() {}

  /**
   * The wait after {@code failures} failures in a row: {@code base × 2^(failures-1)}, at most
   * {@link #CAP} (or {@code base} if that is longer), of which the last half is random ("equal
   * jitter": never less than half the nominal wait, never more than all of it).
   */
  static Duration delay(Duration base, int failures, DoubleSupplier random) {
    var cap = base.compareTo(CAP) > 0 ? base : CAP;
    var nominal = base.multipliedBy(1L << Math.min(Math.max(failures, 1) - 1, 20));
    if (nominal.compareTo(cap) > 0) {
      nominal = cap;
    }
    long half = nominal.toMillis() / 2;
    return Duration.ofMillis(nominal.toMillis() - half + (long) (half * random.getAsDouble()));
  }
}
