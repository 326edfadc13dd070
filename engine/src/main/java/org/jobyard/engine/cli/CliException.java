package org.jobyard.engine.cli;

/** Ends a verb with an exit code and a message for standard error. */
final class CliException extends RuntimeException {
  final int exitCode;
  final String code;

  CliException(int exitCode, String message) {
    this(exitCode, message, null);
  }

  /** @param code the engine's error code ({@code not_found}, {@code conflict}, ...), if any */
  CliException(int exitCode, String message, String code) {
    super(message);
    this.exitCode = exitCode;
    this.code = code;
  }
}
