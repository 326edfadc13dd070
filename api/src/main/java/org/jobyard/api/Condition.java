package org.jobyard.api;

import static java.util.Objects.requireNonNull;

/**
 * Something about a cluster that its users should see, reported by the backend's {@link
 * Backend#maintain() periodic hook} ("delegation renewed", "CE answers slowly", "quota 95 % full")
 * and shown by {@code jobyard backends} and the API.
 *
 * @param severity how much it matters
 * @param subject what it is about, short and stable ({@code delegation}, {@code health})
 * @param message what happened and, for a problem, what to do
 */
public record Condition(Severity severity, String subject, String message) {
  public Condition {
    requireNonNull(severity, "severity is null");
    requireNonNull(subject, "subject is null");
    requireNonNull(message, "message is null");
  }

  public static Condition ok(String subject, String message) {
    return new Condition(Severity.OK, subject, message);
  }

  public static Condition warning(String subject, String message) {
    return new Condition(Severity.WARNING, subject, message);
  }

  public static Condition error(String subject, String message) {
    return new Condition(Severity.ERROR, subject, message);
  }

  /** How much a condition matters: a warning or an error marks the cluster as degraded. */
  public enum Severity {
    OK,
    WARNING,
    ERROR
  }

}
