package org.jobyard.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code bench/run --help} teaches and returns at once: it never builds nor runs anything. */
class RunScriptTest {

  @Test
  void helpPrintsTheOptionsAndBuildsNothing() throws Exception {
    var script = Path.of("run").toAbsolutePath(); // surefire runs in bench/
    for (var flag : new String[] {"--help", "-h"}) {
      var process = new ProcessBuilder(script.toString(), "--short", flag)
          .redirectErrorStream(true).start();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("bench/run %s returns", flag).isTrue();
      var out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

      assertThat(process.exitValue()).isZero();
      assertThat(out).contains("--short").contains("--only NAME").contains("--no-record")
          .doesNotContain("building the tarball").doesNotStartWith("#");
    }
  }
}
