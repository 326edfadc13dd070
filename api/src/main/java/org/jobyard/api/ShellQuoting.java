package org.jobyard.api;

import java.util.Collection;
import java.util.regex.Pattern;

/** Quoting for POSIX shells, so that user input stays data. */
public final class ShellQuoting {
  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

  private ShellQuoting() {}

  /**
   * One shell word that expands to exactly {@code s}: single-quoted, with each {@code '} written
   * as {@code '\''}. Safe for every byte but NUL, newlines included.
   */
  public static String quote(String s) {
    if (s.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a shell argument cannot contain a NUL character");
    }
    if (!s.isEmpty() && SAFE.matcher(s).matches()) {
      return s;
    }
    return "'" + s.replace("'", "'\\''") + "'";
  }

  /** The words quoted and joined with spaces. */
  public static String join(Collection<String> words) {
    var sb = new StringBuilder();
    for (var w : words) {
      if (!sb.isEmpty()) {
        sb.append(' ');
      }
      sb.append(quote(w));
    }
    return sb.toString();
  }

  /** Whether {@code name} can be an environment variable name in a POSIX shell. */
  public static boolean isValidVariableName(String name) {
    return name.matches("[A-Za-z_][A-Za-z0-9_]*");
  }
}
