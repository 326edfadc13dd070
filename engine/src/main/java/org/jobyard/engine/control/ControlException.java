package org.jobyard.engine.control;

/**
 * A request that cannot be carried out as asked; {@link #code()} is stable for scripts and maps
 * to an HTTP status ({@code not_found} 404, {@code conflict} 409, {@code invalid} 400,
 * {@code unavailable} 503).
 */
public class ControlException extends RuntimeException {
  private final String code;

  public ControlException(String code, String message) {
    super(message);
    this.code = code;
  }

  public String code() {
    return code;
  }

  public static ControlException notFound(String message) {
    return new ControlException("not_found", message);
  }

  public static ControlException conflict(String message) {
    return new ControlException("conflict", message);
  }

  public static ControlException invalid(String message) {
    return new ControlException("invalid", message);
  }

  public static ControlException unavailable(String message) {
    return new ControlException("unavailable", message);
  }
}
