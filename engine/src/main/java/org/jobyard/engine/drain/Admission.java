package org.jobyard.engine.drain;

import java.util.Optional;

/** Whether a cluster takes new submissions now: the job manager asks before releasing jobs. */
@FunctionalInterface
public interface Admission {
  /** Every cluster open, always. */
  Admission OPEN = cluster -> Optional.empty();

  /** Why the cluster takes no new submissions now, or empty when it takes them. */
  Optional<String> closed(String cluster);
}
