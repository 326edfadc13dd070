package org.jobyard.engine.control;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;

/**
 * The end of a log file, read from its end in bounded memory: at most {@link #WINDOW} bytes are
 * looked at, and a line longer than {@link #LINE_CAP} (a progress bar redrawn with {@code \r},
 * a 3 GB line) keeps only its last {@code LINE_CAP} bytes, marked as cut.
 */
public final class LogTail {
  /** The most of a file's end that a tail reads. */
  public static final long WINDOW = 16L << 20;
  /** The longest line a tail shows whole. */
  public static final int LINE_CAP = 64 << 10;

  private LogTail() {}

  /** Where the last {@code lines} lines start, but never more than {@link #WINDOW} before end. */
  public static long start(RandomAccessFile f, long end, int lines) throws IOException {
    if (lines == 0) {
      return end;
    }
    long floor = Math.max(0, end - WINDOW);
    long pos = end;
    int newlines = 0;
    var chunk = new byte[8192];
    while (pos > floor) {
      int n = (int) Math.min(chunk.length, pos - floor);
      pos -= n;
      f.seek(pos);
      f.readFully(chunk, 0, n);
      for (int i = n - 1; i >= 0; i--) {
        // a trailing newline ends the last line; it does not start a new one
        if (chunk[i] == '\n' && pos + i != end - 1 && ++newlines == lines) {
          return pos + i + 1;
        }
      }
    }
    return floor;
  }

  /** The last {@code lines} lines of the file, each cut to {@link #LINE_CAP} bytes. */
  public static String read(RandomAccessFile f, int lines) throws IOException {
    long end = f.length();
    long from = start(f, end, lines);
    var bytes = new byte[(int) (end - from)];
    f.seek(from);
    f.readFully(bytes);
    var out = new StringBuilder();
    int lineStart = 0;
    for (int i = 0; i <= bytes.length; i++) {
      if (i == bytes.length || bytes[i] == '\n') {
        int len = i - lineStart;
        boolean cutBefore = lineStart == 0 && from > 0 && (from == end - WINDOW);
        if (len > LINE_CAP || cutBefore) {
          int keep = Math.min(len, LINE_CAP);
          out.append("[... ").append(cutBefore ? "earlier bytes" : (len - keep) + " bytes")
              .append(" of this line cut ...]");
          out.append(new String(bytes, i - keep, keep, StandardCharsets.UTF_8));
        } else {
          out.append(new String(bytes, lineStart, len, StandardCharsets.UTF_8));
        }
        if (i < bytes.length) {
          out.append('\n');
        }
        lineStart = i + 1;
      }
    }
    return out.toString();
  }
}
