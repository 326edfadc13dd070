package org.jobyard.engine.cli;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import org.jobyard.api.JobState;
import org.jobyard.engine.store.JobRow;
import org.jobyard.engine.store.StoredJson;

/** The end of a run: counts, and every job that did not succeed with its exit code and reason. */
record Summary(int total, int succeeded, int failed, int cancelled, int unfinished,
    @JsonProperty("elapsed_seconds") double elapsedSeconds, List<Entry> jobs) {

  /** {@code stdout}: the file the job wrote its output to, or null when its cluster keeps it. */
  record Entry(String id, String name, String state, @JsonProperty("exit_code") Integer exitCode,
      String reason, String stdout) {}

  static Summary of(List<JobRow> rows, Duration elapsed) {
    int ok = 0;
    int failed = 0;
    int cancelled = 0;
    int unfinished = 0;
    for (var r : rows) {
      switch (r.state()) {
        case SUCCEEDED -> ok++;
        case FAILED -> failed++;
        case CANCELLED -> cancelled++;
        default -> unfinished++;
      }
    }
    var entries = rows.stream().map(r -> new Entry(r.id(), r.name(), r.state().name(),
        r.exitCode(), r.reason(), StoredJson.spec(r.id(), r.spec()).stdout())).toList();
    return new Summary(rows.size(), ok, failed, cancelled, unfinished,
        elapsed.toMillis() / 1000.0, entries);
  }

  void print(PrintWriter out) {
    out.printf("%d job(s) in %.1fs: %d succeeded, %d failed, %d cancelled%s%n", total,
        elapsedSeconds, succeeded, failed, cancelled,
        unfinished > 0 ? ", " + unfinished + " unfinished" : "");
    var kept = jobs.stream().filter(e -> e.stdout() == null).toList();
    if (!kept.isEmpty()) {
      // say where the output is, or a user without stdout: looks for it in vain
      out.printf("output: %d job(s) named no stdout; their output stays with the job on its "
          + "cluster: jobyard logs %s (with 'jobyard engine' running), jobyard show %s%n",
          kept.size(), kept.size() == 1 ? kept.getFirst().id() : "ID",
          kept.size() == 1 ? kept.getFirst().id() : "ID");
    }
    var bad = jobs.stream().filter(e -> !e.state().equals(JobState.SUCCEEDED.name())).toList();
    if (bad.isEmpty()) {
      return;
    }
    int nameWidth = Math.max(4, bad.stream().mapToInt(e -> e.name().length()).max().orElse(4));
    nameWidth = Math.min(nameWidth, 40);
    var format = "  %-9s %-" + nameWidth + "s  %-15s  %4s  %s%n";
    out.printf(format, "STATE", "NAME", "ID", "EXIT", "REASON");
    for (var e : bad) {
      var name = e.name().length() > nameWidth ? e.name().substring(0, nameWidth - 1) + "~"
          : e.name();
      out.printf(format, e.state(), name, e.id(), e.exitCode() == null ? "-" : e.exitCode(),
          e.reason() == null ? "" : e.reason().replace('\n', ' '));
    }
  }
}
