package org.jobyard.engine.spec;

import java.util.List;

/** A job file (or request body) was rejected whole; each problem names file, job and field. */
public class JobFileException extends Exception {
  private final List<String> problems;

  public JobFileException(List<String> problems) {
    super(problems.size() == 1 ? problems.getFirst()
        : problems.size() + " problems:\n  " + String.join("\n  ", problems));
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}
