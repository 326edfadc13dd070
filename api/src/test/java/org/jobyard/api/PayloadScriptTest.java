package org.jobyard.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.jobyard.api.JobSpec.Step;
import org.junit.jupiter.api.Test;

class PayloadScriptTest {
  static String run(JobSpec spec) throws Exception {
    var script = "d=$(pwd)\nfinish() { echo \"exit=$1\"; exit \"$1\"; }\n"
        + "fail() { echo \"fail=$2\"; finish \"$1\"; }\n" + PayloadScript.of(spec);
    var p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    return out;
  }

  static JobSpec spec(List<Step> steps, Map<String, String> env, String dir) {
    return new JobSpec("t", null, null, steps, env, dir, null, null, null, null, null, List.of(),
        List.of(), List.of(), 0, Map.of());
  }

  @Test
  void runsStepsInOrderAndStopsAtTheFirstFailure() throws Exception {
    var out = run(spec(List.of(new Step("echo", List.of("one")),
        new Step("sh", List.of("-c", "exit 4")), new Step("echo", List.of("never"))), Map.of(),
        null));
    assertThat(out).isEqualTo("one\nexit=4\n");
  }

  @Test
  void environmentAndArgumentsAreData() throws Exception {
    var out = run(spec(List.of(new Step("printf", List.of("%s|%s\\n", "$(id)", "`id`")),
        new Step("sh", List.of("-c", "printf %s \"$X\""))), Map.of("X", "a'b $HOME"), null));
    assertThat(out).isEqualTo("$(id)|`id`\na'b $HOMEexit=0\n");
  }

  @Test
  void aMissingWorkingDirectoryFailsWithTheSetupCode() throws Exception {
    var out = run(spec(List.of(new Step("true", List.of())), Map.of(), "/no/such dir"));
    assertThat(out).contains("fail=cannot change to working directory /no/such dir")
        .contains("exit=127");
  }

  @Test
  void refusesAVariableNameNoShellCanCarry() {
    assertThatThrownBy(() -> PayloadScript.of(spec(List.of(new Step("true", List.of())),
        Map.of("1X", "v"), null))).hasMessageContaining("'1X'");
  }

  @Test
  void withExecTheLastStepReplacesTheShellAndItsStatusIsTheShells() throws Exception {
    var steps = List.of(new Step("echo", List.of("one")), new Step("sh", List.of("-c", "exit 5")));
    var script = "finish() { echo \"exit=$1\"; exit \"$1\"; }\n"
        + PayloadScript.of(spec(steps, Map.of(), null), true);
    var p = new ProcessBuilder("sh", "-c", script + "echo never-here\n")
        .redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(p.waitFor()).isEqualTo(5);
    assertThat(out).as("the first step ran, the last replaced the shell").isEqualTo("one\n");
    assertThat(PayloadScript.of(spec(List.of(new Step("true", List.of())), Map.of(), null), true))
        .endsWith("exec 'true'\n");
  }
}
