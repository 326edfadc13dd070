package org.jobyard.api;

import static java.util.Objects.requireNonNull;

/** What a finished command left: exit code and its outputs, decoded as UTF-8. */
public record CommandResult(int exitCode, String stdout, String stderr) {
  public CommandResult {
    requireNonNull(stdout, "stdout is null");
    requireNonNull(stderr, "stderr is null");
  }

  public boolean succeeded() {
    return exitCode == 0;
  }

  /** For error messages: exit code and the first lines of stderr (or stdout). */
  public String summary() {
    var text = stderr.isBlank() ? stdout : stderr;
    text = text.strip();
    if (text.length() > 500) {
      text = text.substring(0, 500) + "...";
    }
    return "exit " + exitCode + (text.isEmpty() ? "" : ": " + text);
  }
}
