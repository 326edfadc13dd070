package org.jobyard.api;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;

/** Parses and prints the short durations used in job files and settings ({@code 90s}, {@code 1h30m}). */
public final class Durations {
  private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h|d)");
  private static final Pattern CLOCK = Pattern.compile("(?:(\\d+)-)?(\\d+):(\\d{1,2})(?::(\\d{1,2}))?");

  private Durations() {}

  /**
   * Accepts {@code 1h30m}, {@code 45s}, {@code 500ms}, a plain number of seconds, or a Slurm-style
   * clock {@code [D-]HH:MM[:SS]}.
   */
  public static Optional<Duration> parse(String text) {
    var s = text.trim().toLowerCase(java.util.Locale.ROOT);
    if (s.isEmpty()) {
      return Optional.empty();
    }
    if (s.chars().allMatch(Character::isDigit)) {
      return Optional.of(Duration.ofSeconds(Long.parseLong(s)));
    }
    var clock = CLOCK.matcher(s);
    if (clock.matches()) {
      long days = clock.group(1) == null ? 0 : Long.parseLong(clock.group(1));
      long a = Long.parseLong(clock.group(2));
      long b = Long.parseLong(clock.group(3));
      long c = clock.group(4) == null ? -1 : Long.parseLong(clock.group(4));
      // HH:MM:SS, or HH:MM when there are two fields.
      var d = c < 0 ? Duration.ofHours(a).plusMinutes(b) : Duration.ofHours(a).plusMinutes(b).plusSeconds(c);
      return Optional.of(d.plusDays(days));
    }
    var m = PART.matcher(s);
    Duration total = Duration.ZERO;
    int end = 0;
    while (m.find()) {
      if (m.start() != end) {
        return Optional.empty();
      }
      end = m.end();
      long n = Long.parseLong(m.group(1));
      total = total.plus(switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      });
    }
    return end == s.length() && end > 0 ? Optional.of(total) : Optional.empty();
  }

  /** Whole seconds rounded up, at least one: what batch systems accept. */
  public static long ceilSeconds(Duration d) {
    long s = d.toSeconds();
    return Math.max(1, d.minusSeconds(s).isZero() ? s : s + 1);
  }
}
