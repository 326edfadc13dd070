package org.jobyard.engine.http;

import java.util.List;

/**
 * A request the API refuses, with the HTTP status, a stable code for scripts and a message that
 * says what to change. {@code problems} lists every problem of a rejected job document.
 */
final class ApiException extends RuntimeException {
  final int status;
  final String code;
  final List<String> problems;

  ApiException(int status, String code, String message) {
    this(status, code, message, List.of());
  }

  ApiException(int status, String code, String message, List<String> problems) {
    super(message);
    this.status = status;
    this.code = code;
    this.problems = List.copyOf(problems);
  }

  static ApiException invalid(String message) {
    return new ApiException(400, "invalid", message);
  }
}
