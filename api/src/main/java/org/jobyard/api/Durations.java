package org.jobyard.api;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/** Parses and prints the short durations used in job files and settings ({@code 90s}, {@code 1h30m}). */
public final class Durations {
  private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h|d)");
  /** Slurm's {@code --time} clocks with a colon or a day: MM:SS, HH:MM:SS, D-HH[:MM[:SS]]. */
  private static final Pattern CLOCK =
      Pattern.compile("(?:(\\d+)-)?(\\d+)(?::(\\d{1,2}))?(?::(\\d{1,2}))?");

  private Durations() {}

  /**
   * Accepts {@code 1h30m}, {@code 45s}, {@code 500ms}, a plain number of seconds, or a clock read
   * exactly as Slurm's {@code --time} reads it: {@code MM:SS}, {@code HH:MM:SS}, {@code D-HH},
   * {@code D-HH:MM}, {@code D-HH:MM:SS} (the fields after the first below 60). Job files refuse
   * the plain number (Slurm reads it as minutes): see {@link #isPlainNumber}.
   */
  public static Optional<Duration> parse(String text) {
    var s = text.trim().toLowerCase(java.util.Locale.ROOT);
    if (s.isEmpty()) {
      return Optional.empty();
    }
    if (isPlainNumber(s)) {
      return Optional.of(Duration.ofSeconds(Long.parseLong(s)));
    }
    var clock = CLOCK.matcher(s);
    if (clock.matches()) {
      return clock(clock.group(1), clock.group(2), clock.group(3), clock.group(4));
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

  /** True for digits only ({@code 30}): seconds here, minutes to Slurm, so ambiguous. */
  public static boolean isPlainNumber(String text) {
    var s = text.trim();
    return !s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9');
  }

  private static Optional<Duration> clock(String day, String first, String second, String third) {
    var later = third != null ? List.of(second, third) : second != null ? List.of(second)
        : List.<String>of();
    if (later.stream().anyMatch(f -> Long.parseLong(f) >= 60)) {
      return Optional.empty();
    }
    long a = Long.parseLong(first);
    if (day != null) { // D-HH, D-HH:MM, D-HH:MM:SS
      var d = Duration.ofDays(Long.parseLong(day)).plusHours(a);
      d = second == null ? d : d.plusMinutes(Long.parseLong(second));
      return Optional.of(third == null ? d : d.plusSeconds(Long.parseLong(third)));
    }
    if (second == null) {
      return Optional.empty(); // a plain number, handled by the caller
    }
    return Optional.of(third == null
        ? Duration.ofMinutes(a).plusSeconds(Long.parseLong(second)) // MM:SS
        : Duration.ofHours(a).plusMinutes(Long.parseLong(second))
            .plusSeconds(Long.parseLong(third))); // HH:MM:SS
  }

  /** Whole seconds rounded up, at least one: what batch systems accept. */
  public static long ceilSeconds(Duration d) {
    long s = d.toSeconds();
    return Math.max(1, d.minusSeconds(s).isZero() ? s : s + 1);
  }
}
