package org.jobyard.api;

import static java.util.Objects.requireNonNull;

/**
 * A credential the engine resolved for a backend (a bearer token, a password): its value is
 * reached through {@link #reveal()} only, and {@link #toString()} never shows it, so a secret
 * that ends up in a log line or an exception message stays masked. Compare with {@link
 * #equals} is by identity on purpose: nothing should branch on a secret's value.
 */
public final class Secret {
  private final String name;
  private final String value;

  /**
   * @param name where the secret came from, safe to print ({@code cluster 'arc' setting 'token'})
   * @param value the secret itself
   */
  public Secret(String name, String value) {
    this.name = requireNonNull(name, "name is null");
    this.value = requireNonNull(value, "value is null");
  }

  /** Where the secret came from, for messages. */
  public String name() {
    return name;
  }

  /** The secret's value, to put on the wire (an {@code Authorization} header); never log it. */
  public String reveal() {
    return value;
  }

  @Override
  public String toString() {
    return "Secret[" + name + ", ****]";
  }
}
