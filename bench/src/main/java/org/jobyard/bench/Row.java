package org.jobyard.bench;

/**
 * One line of the results table: a figure, its baseline measured in the same run, their ratio,
 * the goal of issue 9 and whether it is met ("met", "NOT MET", "-" where there is no goal, or
 * "skipped: why").
 */
public record Row(String bench, String figure, String value, String baseline, String ratio,
    String goal, String verdict) {

  static Row parse(String line) {
    var f = line.substring("ROW\t".length()).split("\t", -1);
    return new Row(f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
  }

  /** How a child JVM hands a row to the suite: one line on stdout. */
  String line() {
    return String.join("\t", "ROW", bench, figure, value, baseline, ratio, goal, verdict);
  }

  static Row skipped(String bench, String why) {
    return new Row(bench, "(skipped)", "-", "-", "-", "-", "skipped: " + why);
  }

  static String verdict(boolean met) {
    return met ? "met" : "NOT MET";
  }

  static String f(String format, Object... args) {
    return String.format(java.util.Locale.ROOT, format, args);
  }
}
