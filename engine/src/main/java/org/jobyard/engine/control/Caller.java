package org.jobyard.engine.control;

import static java.util.Objects.requireNonNull;

/** Who asks: a user sees and touches only their own jobs unless an admin. */
public record Caller(String user, boolean admin) {
  public Caller {
    requireNonNull(user, "user is null");
  }
}
