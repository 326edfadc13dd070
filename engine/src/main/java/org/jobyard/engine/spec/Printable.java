package org.jobyard.engine.spec;

/**
 * Text shown on a terminal: control characters (newlines, ESC sequences, NUL) escaped as
 * {@code \n}, {@code \e}, {@code \u0007}..., so a value can neither forge a table row nor
 * drive the terminal.
 */
public final class Printable {
  private Printable() {}

  public static String escape(String text) {
    if (text == null || text.chars().noneMatch(Character::isISOControl)) {
      return text;
    }
    var sb = new StringBuilder(text.length() + 8);
    text.codePoints().forEach(c -> {
      switch (c) {
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case 0x1b -> sb.append("\\e");
        default -> {
          if (Character.isISOControl(c)) {
            sb.append(String.format("\\u%04x", c));
          } else {
            sb.appendCodePoint(c);
          }
        }
      }
    });
    return sb.toString();
  }
}
