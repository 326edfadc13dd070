package org.jobyard.api;

import java.time.Duration;

/**
 * What a job needs. Zero (or {@code null} for walltime) means "the cluster's default".
 *
 * @param cores cores per job
 * @param memoryMb memory in MiB
 * @param walltime wall-clock limit, or {@code null}
 * @param nodes nodes (batch systems that know them)
 * @param gpus GPUs
 */
public record Resources(int cores, long memoryMb, Duration walltime, int nodes, int gpus) {
  public static final Resources NONE = new Resources(0, 0, null, 0, 0);

  public Resources {
    if (cores < 0 || memoryMb < 0 || nodes < 0 || gpus < 0) {
      throw new IllegalArgumentException("resources must not be negative");
    }
    if (walltime != null && (walltime.isNegative() || walltime.isZero())) {
      throw new IllegalArgumentException("walltime must be positive, got " + walltime);
    }
  }
}
