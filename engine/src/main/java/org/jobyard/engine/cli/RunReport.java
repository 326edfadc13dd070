package org.jobyard.engine.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jobyard.api.JobState;
import org.jobyard.engine.store.JobRow;

/**
 * {@code jobyard run --report FILE.html}: one self-contained HTML page about a run (no script, no
 * file or address beyond itself), like Nextflow's report: the counts, a timeline of every job
 * through its states, and a table with durations, exit codes and reasons. Every value from a job
 * is escaped, so a job's name is text whatever it holds.
 */
final class RunReport {
  /** A job entered a state at a time (from the manager's events, as the run saw them). */
  record Step(JobState state, Instant at) {}

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

  private RunReport() {}

  static void write(Path file, List<String> commandFiles, Instant started, Instant ended,
      List<JobRow> rows, Map<String, List<Step>> steps) throws IOException {
    Files.writeString(file, html(commandFiles, started, ended, rows, steps),
        StandardCharsets.UTF_8);
  }

  static String html(List<String> commandFiles, Instant started, Instant ended,
      List<JobRow> rows, Map<String, List<Step>> steps) {
    var total = Math.max(1, Duration.between(started, ended).toMillis());
    var counts = new java.util.EnumMap<JobState, Integer>(JobState.class);
    rows.forEach(r -> counts.merge(r.state(), 1, Integer::sum));
    var sorted = rows.stream().sorted(Comparator.comparing(JobRow::createdAt)
        .thenComparing(JobRow::seq)).toList();

    var h = new StringBuilder(16_384);
    h.append("""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Jobyard run report</title>
        <style>
        body{font:14px/1.4 system-ui,sans-serif;color:#1d232b;margin:1.5rem;max-width:1400px}
        h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.6rem 0 .6rem}
        .muted{color:#66707c}.counts{display:flex;gap:.6rem;flex-wrap:wrap;margin:.8rem 0}
        .count{border:1px solid #dde2e8;border-radius:6px;padding:.4rem .8rem;min-width:7rem}
        .count b{display:block;font-size:1.4rem}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;
        border-bottom:1px solid #dde2e8;vertical-align:top}th{background:#eef1f5;font-size:.85rem}
        td.num{text-align:right}td.name{overflow-wrap:anywhere;max-width:22rem}
        .line{position:relative;height:14px;background:#f3f5f8;border-radius:3px;min-width:20rem}
        .seg{position:absolute;top:0;height:14px;min-width:2px;border-radius:2px}
        .QUEUED,.SUBMITTING{background:#c3cad3}.PENDING{background:#f0c36b}
        .RUNNING{background:#5b9bf0}.PAUSED{background:#b8a6e0}.CANCELLING{background:#f0a35b}
        .end-SUCCEEDED{color:#1f7a3a}.end-FAILED{color:#b42318}.end-CANCELLED{color:#a15c00}
        .legend span{display:inline-block;margin-right:1rem}.legend i{display:inline-block;
        width:.9rem;height:.9rem;border-radius:2px;vertical-align:middle;margin-right:.3rem}
        </style></head><body>
        """);
    h.append("<h1>Jobyard run report</h1>\n<p class=\"muted\">")
        .append(esc(String.join(" ", commandFiles))).append(" · started ")
        .append(TIME.format(started)).append(" · ").append(seconds(total)).append(" · ")
        .append(rows.size()).append(" job(s)</p>\n<div class=\"counts\">");
    for (var s : List.of(JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)) {
      h.append("<div class=\"count end-").append(s).append("\"><b>")
          .append(counts.getOrDefault(s, 0)).append("</b>").append(lower(s)).append("</div>");
    }
    int unfinished = rows.size() - counts.getOrDefault(JobState.SUCCEEDED, 0)
        - counts.getOrDefault(JobState.FAILED, 0) - counts.getOrDefault(JobState.CANCELLED, 0);
    h.append("<div class=\"count\"><b>").append(unfinished).append("</b>unfinished</div></div>\n");

    h.append("<h2>Timeline</h2>\n<p class=\"legend muted\">");
    for (var s : List.of(JobState.QUEUED, JobState.PENDING, JobState.RUNNING, JobState.PAUSED,
        JobState.CANCELLING)) {
      h.append("<span><i class=\"").append(s).append("\"></i>").append(lower(s)).append("</span>");
    }
    h.append("</p>\n<table class=\"timeline\"><thead><tr><th>Job</th><th>End</th>"
        + "<th style=\"width:60%\">0 – ").append(seconds(total))
        .append("</th></tr></thead><tbody>\n");
    for (var r : sorted) {
      h.append("<tr data-job-id=\"").append(esc(r.id())).append("\"><td class=\"name\">")
          .append(esc(r.name())).append("</td><td class=\"end-").append(r.state()).append("\">")
          .append(lower(r.state())).append("</td><td><div class=\"line\">");
      var path = path(r, steps.getOrDefault(r.id(), List.of()));
      for (int i = 0; i < path.size(); i++) {
        var step = path.get(i);
        if (step.state().isTerminal()) {
          continue;
        }
        var until = i + 1 < path.size() ? path.get(i + 1).at() : ended;
        long from = clamp(Duration.between(started, step.at()).toMillis(), total);
        long to = clamp(Duration.between(started, until).toMillis(), total);
        h.append("<div class=\"seg ").append(step.state()).append("\" style=\"left:")
            .append(percent(from, total)).append("%;width:").append(percent(to - from, total))
            .append("%\" title=\"").append(lower(step.state())).append(' ')
            .append(seconds(to - from)).append("\"></div>");
      }
      h.append("</div></td></tr>\n");
    }
    h.append("</tbody></table>\n");

    h.append("<h2>Jobs</h2>\n<table class=\"jobs\"><thead><tr><th>Name</th><th>Id</th>"
        + "<th>Session</th><th>State</th><th class=\"num\">Attempts</th><th class=\"num\">Exit"
        + "</th><th class=\"num\">Waited</th><th class=\"num\">Ran</th><th>Reason</th></tr>"
        + "</thead><tbody>\n");
    for (var r : sorted) {
      var path = path(r, steps.getOrDefault(r.id(), List.of()));
      long waited = 0;
      long ran = 0;
      for (int i = 0; i + 1 < path.size(); i++) {
        long d = Duration.between(path.get(i).at(), path.get(i + 1).at()).toMillis();
        if (path.get(i).state() == JobState.RUNNING) {
          ran += d;
        } else if (!path.get(i).state().isTerminal()) {
          waited += d;
        }
      }
      h.append("<tr data-job-id=\"").append(esc(r.id())).append("\"><td class=\"name\">")
          .append(esc(r.name())).append("</td><td>").append(esc(r.id())).append("</td><td>")
          .append(esc(r.session() == null ? "" : r.session())).append("</td><td class=\"end-")
          .append(r.state()).append("\">").append(lower(r.state()))
          .append("</td><td class=\"num\">")
          .append(r.attempt()).append("</td><td class=\"num\">")
          .append(r.exitCode() == null ? "" : r.exitCode()).append("</td><td class=\"num\">")
          .append(seconds(waited)).append("</td><td class=\"num\">").append(seconds(ran))
          .append("</td><td>").append(esc(r.reason() == null ? "" : r.reason()))
          .append("</td></tr>\n");
    }
    h.append("</tbody></table>\n<p class=\"muted\">Written by jobyard run at ")
        .append(TIME.format(ended)).append(".</p>\n</body></html>\n");
    return h.toString();
  }

  /** The job's states in order: queued at submission, then what the run saw. */
  private static List<Step> path(JobRow r, List<Step> seen) {
    var out = new java.util.ArrayList<Step>();
    out.add(new Step(JobState.QUEUED, r.createdAt()));
    seen.stream().sorted(Comparator.comparing(Step::at)).forEach(s -> {
      if (s.state() != out.getLast().state()) { // a repeated state is one stretch
        out.add(s);
      }
    });
    return out;
  }

  private static long clamp(long ms, long total) {
    return Math.max(0, Math.min(ms, total));
  }

  private static String percent(long part, long total) {
    return String.format(Locale.ROOT, "%.3f", 100.0 * part / total);
  }

  private static String seconds(long ms) {
    return ms < 60_000 ? String.format(Locale.ROOT, "%.1fs", ms / 1000.0)
        : String.format(Locale.ROOT, "%dm%02ds", ms / 60_000, ms / 1000 % 60);
  }

  private static String lower(JobState s) {
    return s.name().toLowerCase(Locale.ROOT);
  }

  /** Text for HTML content and quoted attributes. */
  static String esc(String s) {
    var b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }
}
