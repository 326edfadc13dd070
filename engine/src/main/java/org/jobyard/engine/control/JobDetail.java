package org.jobyard.engine.control;

import java.util.List;

/**
 * One job in full, for {@code GET /api/v1/jobs/{id}} and {@code jobyard show}: its row as
 * {@code ps} shows it, every attempt oldest first, and where its output went.
 */
public record JobDetail(JobView job, List<AttemptView> attempts, Output output) {
  public JobDetail {
    attempts = List.copyOf(attempts);
  }

  /**
   * Where the job's output is: the files the job named on the engine's machine, or {@code null}
   * when it named none and its cluster keeps the output with the job ({@code keptBy}), where
   * {@code jobyard logs} reads it.
   */
  public record Output(String stdout, String stderr, String keptBy, String readWith) {}
}
