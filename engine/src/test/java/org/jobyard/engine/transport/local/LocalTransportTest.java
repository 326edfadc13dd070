package org.jobyard.engine.transport.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.Command;
import org.jobyard.api.TransportException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalTransportTest {
  static final List<String> HOSTILE = List.of("two words", "it's", "\"dq\"", "$(id)", "`id`",
      "a;b", "*", "x\ny", "back\\slash", "${HOME}", "é 日本", "");
  final LocalTransport transport = new LocalTransport();

  @Test
  void argumentsArriveByteForByte() throws Exception {
    var argv = new ArrayList<String>(List.of("printf", "%s\\0"));
    argv.addAll(HOSTILE);
    var result = transport.run(Command.of(argv));
    assertThat(result.exitCode()).isZero();
    var got = new ArrayList<>(List.of(result.stdout().split("\0", -1)));
    got.removeLast();
    assertThat(got).containsExactlyElementsOf(HOSTILE);
  }

  @Test
  void reportsExitCodeStdinAndStderr() throws Exception {
    var result = transport.run(Command.shell("cat; echo oops >&2; exit 3").withStdin("in put"));
    assertThat(result.exitCode()).isEqualTo(3);
    assertThat(result.stdout()).isEqualTo("in put");
    assertThat(result.stderr()).isEqualTo("oops\n");
  }

  @Test
  void passesEnvironment() throws Exception {
    var result = transport.run(Command.shell("printf %s \"$JY_X\"")
        .withEnvironment(Map.of("JY_X", "$(not run)")));
    assertThat(result.stdout()).isEqualTo("$(not run)");
  }

  @Test
  void killsACommandThatOverrunsItsTimeoutWithARetryableError() {
    assertThatThrownBy(() -> transport.run(Command.of("sleep", "30")
        .withTimeout(Duration.ofMillis(300))))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("timed out")
        .matches(e -> ((TransportException) e).isRetryable());
  }

  @Test
  void aMissingProgramIsNotRetryable() {
    assertThatThrownBy(() -> transport.run(Command.of("/no/such/program")))
        .isInstanceOf(TransportException.class)
        .matches(e -> !((TransportException) e).isRetryable());
  }

  @Test
  void startCompletesWhenTheCommandEnds() throws Exception {
    var future = transport.start(Command.shell("echo done; exit 4"));
    var result = future.get(10, TimeUnit.SECONDS);
    assertThat(result.exitCode()).isEqualTo(4);
    assertThat(result.stdout()).isEqualTo("done\n");
  }

  @Test
  void copiesFilesWithOddNames(@TempDir Path dir) throws Exception {
    var src = dir.resolve("a 'quoted' $name.txt");
    Files.writeString(src, "payload");
    var dst = dir.resolve("sub dir/b \"x\".txt");
    transport.upload(src, dst.toString());
    var back = dir.resolve("back/c.txt");
    transport.download(dst.toString(), back);
    assertThat(back).hasContent("payload");
  }
}
