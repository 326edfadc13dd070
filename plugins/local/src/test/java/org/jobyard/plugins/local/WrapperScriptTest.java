package org.jobyard.plugins.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobSpec;
import org.jobyard.api.Resources;
import org.junit.jupiter.api.Test;

class WrapperScriptTest {

  private static JobSpec spec(Map<String, String> env, Resources resources, String directory,
      List<JobSpec.Step> steps, String stdout, String stderr) {
    return new JobSpec("t", null, null, steps, env, directory, stdout, stderr, resources, null,
        null, List.of(), List.of(), List.of(), 0, Map.of());
  }

  @Test
  void quotesEnvironmentValuesSoTheyStayData() throws Exception {
    var script = WrapperScript.build("j.1", spec(Map.of("GREETING", "it's $(rm -rf /) `x`"),
        null, null, List.of(new JobSpec.Step("true", List.of())), null, null), true, 5);

    assertThat(script).contains("export GREETING='it'\\''s $(rm -rf /) `x`'\n");
  }

  @Test
  void refusesAnInvalidVariableNameAndNamesIt() {
    assertThatThrownBy(() -> WrapperScript.build("j.1", spec(Map.of("BAD-NAME", "x"), null, null,
        List.of(new JobSpec.Step("true", List.of())), null, null), true, 5))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("'BAD-NAME'")
        .matches(e -> !((BackendException) e).isRetryable(), "is not retryable");
  }

  @Test
  void refusesANulCharacterWithoutRetry() {
    assertThatThrownBy(() -> WrapperScript.build("j.1", JobSpec.of("t", "echo", "a\0b"), true, 5))
        .isInstanceOf(BackendException.class)
        .matches(e -> !((BackendException) e).isRetryable(), "is not retryable");
  }

  @Test
  void runsEveryStepAndStopsAtTheFirstFailure() throws Exception {
    var script = WrapperScript.build("j.1", spec(Map.of(), null, null, List.of(
        new JobSpec.Step("first", List.of("a b")), new JobSpec.Step("done", List.of("$x"))), null,
        null), true, 5);

    assertThat(script).contains("'first' 'a b' || finish $?\n'done' '$x' || finish $?\nfinish 0\n");
  }

  @Test
  void startsAWatchdogOnlyWhenTheJobHasAWalltime() throws Exception {
    var none = WrapperScript.build("j.1", JobSpec.of("t", "true"), true, 5);
    var limited = WrapperScript.build("j.1", spec(Map.of(), new Resources(0, 0,
        Duration.ofMillis(1500), 0, 0), null, List.of(new JobSpec.Step("true", List.of())), null,
        null), true, 5);

    assertThat(none).doesNotContain("walltime");
    assertThat(limited).contains("( sleep 2;").contains("true > \"$d/walltime\"")
        .contains("kill -TERM -$$");
  }

  @Test
  void writesOutputToTheSpecPathsOnlyWhenTheFilesystemIsShared() throws Exception {
    var s = spec(Map.of(), null, null, List.of(new JobSpec.Step("true", List.of())),
        "/tmp/o u t", "/tmp/o u t");

    assertThat(WrapperScript.build("j.1", s, true, 5)).contains("exec >'/tmp/o u t' 2>&1\n");
    assertThat(WrapperScript.build("j.1", s, false, 5))
        .contains("exec >\"$d/stdout\" 2>\"$d/stderr\"\n");
  }

  @Test
  void changesToTheWorkingDirectoryOrRecordsWhyNot() throws Exception {
    var script = WrapperScript.build("j.1", spec(Map.of(), null, "/data/my dir", List.of(
        new JobSpec.Step("true", List.of())), null, null), true, 5);

    assertThat(script).contains(
        "cd '/data/my dir' || fail 127 'cannot change to working directory /data/my dir'");
  }

  @Test
  void isValidShell() throws Exception {
    var script = WrapperScript.build("j.1", spec(Map.of("A", "1"), new Resources(0, 0,
        Duration.ofSeconds(3), 0, 0), "/x", List.of(new JobSpec.Step("echo", List.of("é", "\n"))),
        "/o", "/e"), true, 5);

    var p = new ProcessBuilder("sh", "-n").redirectErrorStream(true).start();
    p.getOutputStream().write(script.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("sh -n says: %s", out).isZero();
  }
}
