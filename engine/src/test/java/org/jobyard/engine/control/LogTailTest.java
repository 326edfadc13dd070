package org.jobyard.engine.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogTailTest {
  @TempDir
  Path dir;

  @Test
  void tailsTheLastLinesOfAnOrdinaryLog() throws Exception {
    var log = dir.resolve("out");
    Files.writeString(log, "one\ntwo\nthree\n");
    assertThat(JobControl.tailFile(log, 2)).isEqualTo("two\nthree\n");
    assertThat(JobControl.tailFile(log, 10)).isEqualTo("one\ntwo\nthree\n");
  }

  @Test
  void aThreeGigabyteLineIsCutToItsEndInsteadOfReadIntoMemory() throws Exception {
    var log = dir.resolve("progress");
    try (var f = new RandomAccessFile(log.toFile(), "rw")) {
      f.setLength(3L << 30); // sparse: a progress bar of 3 GB without a newline
      f.seek(f.length());
      f.write("100%\n".getBytes(StandardCharsets.UTF_8));
    }
    var tail = JobControl.tailFile(log, 1);
    assertThat(tail).startsWith("[... ").contains("cut ...]").endsWith("100%\n");
    assertThat(tail.length()).isLessThan(LogTail.LINE_CAP + 100);
  }

  @Test
  void aLongLineAmongShortOnesKeepsItsEndAndTheOthersWhole() throws Exception {
    var log = dir.resolve("mixed");
    Files.writeString(log, "before\n" + "x".repeat(200_000) + "end\nafter\n");
    var tail = JobControl.tailFile(log, 2);
    assertThat(tail).startsWith("[... " + (200_003 - LogTail.LINE_CAP) + " bytes of this line "
        + "cut ...]xxx").endsWith("xend\nafter\n");
  }
}
