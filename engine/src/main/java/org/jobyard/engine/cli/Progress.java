package org.jobyard.engine.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import org.jobyard.api.JobState;

/** Live progress of a run: a bar on a terminal, a line every few seconds otherwise. */
abstract class Progress {
  final PrintWriter err;
  final int total;

  Progress(PrintWriter err, int total) {
    this.err = err;
    this.total = total;
  }

  static Progress choose(String mode, PrintWriter err, int total) {
    return switch (mode) {
      case "none" -> new None(err, total);
      case "bar" -> new Bar(err, total);
      case "lines" -> new Lines(err, total);
      default -> System.console() != null ? new Bar(err, total) : new Lines(err, total);
    };
  }

  abstract Duration interval();

  abstract void update(Map<JobState, Integer> counts, long elapsedNanos);

  abstract void finish(Map<JobState, Integer> counts, long elapsedNanos);

  static int done(Map<JobState, Integer> c) {
    return c.get(JobState.SUCCEEDED) + c.get(JobState.FAILED) + c.get(JobState.CANCELLED);
  }

  static String counts(Map<JobState, Integer> c) {
    return String.format("queued %d  running %d  succeeded %d  failed %d  cancelled %d",
        c.get(JobState.QUEUED) + c.get(JobState.SUBMITTING) + c.get(JobState.PENDING)
            + c.get(JobState.PAUSED),
        c.get(JobState.RUNNING) + c.get(JobState.CANCELLING), c.get(JobState.SUCCEEDED),
        c.get(JobState.FAILED), c.get(JobState.CANCELLED));
  }

  static String seconds(long nanos) {
    return String.format("%.1fs", nanos / 1e9);
  }

  static final class None extends Progress {
    None(PrintWriter err, int total) {
      super(err, total);
    }

    @Override
    Duration interval() {
      return Duration.ofMillis(500);
    }

    @Override
    void update(Map<JobState, Integer> counts, long elapsedNanos) {}

    @Override
    void finish(Map<JobState, Integer> counts, long elapsedNanos) {}
  }

  static final class Bar extends Progress {
    Bar(PrintWriter err, int total) {
      super(err, total);
    }

    @Override
    Duration interval() {
      return Duration.ofMillis(100);
    }

    @Override
    void update(Map<JobState, Integer> c, long elapsedNanos) {
      int width = 30;
      int done = done(c);
      int filled = total == 0 ? width : (int) ((long) done * width / total);
      err.print("\r[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + done + "/"
          + total + "  " + counts(c) + "  " + seconds(elapsedNanos) + "\u001b[K");
      err.flush();
    }

    @Override
    void finish(Map<JobState, Integer> c, long elapsedNanos) {
      update(c, elapsedNanos);
      err.println();
      err.flush();
    }
  }

  static final class Lines extends Progress {
    private String last = "";
    private long lastPrinted;

    Lines(PrintWriter err, int total) {
      super(err, total);
    }

    @Override
    Duration interval() {
      return Duration.ofMillis(200);
    }

    @Override
    void update(Map<JobState, Integer> c, long elapsedNanos) {
      var line = done(c) + "/" + total + " done  " + counts(c);
      // a line when something changed, at most every 2 s, so logs stay readable
      if (!line.equals(last) && elapsedNanos - lastPrinted >= 2_000_000_000L) {
        err.println("[" + seconds(elapsedNanos) + "] " + line);
        err.flush();
        last = line;
        lastPrinted = elapsedNanos;
      }
    }

    @Override
    void finish(Map<JobState, Integer> c, long elapsedNanos) {
      err.println("[" + seconds(elapsedNanos) + "] " + done(c) + "/" + total + " done  "
          + counts(c));
      err.flush();
    }
  }
}
