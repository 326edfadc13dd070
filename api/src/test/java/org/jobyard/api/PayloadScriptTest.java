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
    return run(spec, Map.of(), null);
  }

  /** Runs the payload in {@code cwd} with {@code extraEnv} added to this JVM's environment. */
  static String run(JobSpec spec, Map<String, String> extraEnv, java.io.File cwd)
      throws Exception {
    var script = "d=$(pwd)\nfinish() { echo \"exit=$1\"; exit \"$1\"; }\n"
        + "fail() { echo \"fail=$2\"; finish \"$1\"; }\n" + PayloadScript.of(spec);
    var pb = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).directory(cwd);
    pb.environment().putAll(extraEnv);
    var p = pb.start();
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

  private static JobSpec inheriting(List<String> inherit, String command, Map<String, String> env) {
    return new JobSpec("t", null, null, List.of(new Step("sh", List.of("-c", command))), env,
        null, null, null, null, null, null, List.of(), List.of(), List.of(), 0, Map.of(),
        List.of(), null, List.of(), null, null, inherit);
  }

  private static final String SHOW = "printf '%s|%s|%s|%s|%s\\n' \"${SECRET-unset}\" "
      + "\"${CONDA_A-unset}\" \"${CONDA_B-unset}\" \"${PATH:+path}\" \"${X-unset}\"";

  @Test
  void aJobThatInheritsNothingSeesOnlyTheBasicsAndItsOwnEnvironment() throws Exception {
    var out = run(inheriting(List.of(), SHOW, Map.of("X", "mine")),
        Map.of("SECRET", "s3cret", "CONDA_A", "a", "CONDA_B", "b"), null);
    assertThat(out).isEqualTo("unset|unset|unset|path|mine\nexit=0\n");
  }

  @Test
  void anAllowListLetsOnlyTheNamedVariablesThrough() throws Exception {
    var out = run(inheriting(List.of("CONDA_*"), SHOW, Map.of()),
        Map.of("SECRET", "s3cret", "CONDA_A", "a", "CONDA_B", "b"), null);
    assertThat(out).isEqualTo("unset|a|b|path|unset\nexit=0\n");
  }

  @Test
  void inheritingEverythingKeepsTheWholeEnvironment() throws Exception {
    var out = run(inheriting(JobSpec.INHERIT_ALL, SHOW, Map.of()),
        Map.of("SECRET", "s3cret", "CONDA_A", "a", "CONDA_B", "b"), null);
    assertThat(out).isEqualTo("s3cret|a|b|path|unset\nexit=0\n");
  }

  @Test
  void aHostileInheritedValueNeitherBreaksTheScriptNorLeaks() throws Exception {
    // lines of `export -p` forged by a value: the script's $d must survive, the value stays data
    var hostile = "x'\nexport d=/nowhere\nexport PATH=/evil\n$(touch /tmp/jy-pwned)";
    var out = run(inheriting(List.of("KEEP"), "printf '%s|%s|%s\\n' \"$KEEP\" "
        + "\"${SECRET-unset}\" \"$PATH\"", Map.of()),
        Map.of("KEEP", hostile, "SECRET", hostile), null);
    assertThat(out).isEqualTo(hostile + "|unset|" + System.getenv("PATH") + "\nexit=0\n");
    assertThat(new java.io.File("/tmp/jy-pwned")).doesNotExist();
  }

  @Test
  void underAParentThatListedTheExportedNamesTheFilterUnsetsThoseNamesWithoutASubshell()
      throws Exception {
    var spec = inheriting(List.of("CONDA_*"), SHOW, Map.of("X", "mine"));
    var payload = PayloadScript.of(spec, false, "jy_names");
    var script = "d=$(pwd)\nfinish() { echo \"exit=$1\"; exit \"$1\"; }\n"
        + "fail() { echo \"fail=$2\"; finish \"$1\"; }\n";
    var env = Map.of("SECRET", "s3cret", "CONDA_A", "a", "CONDA_B", "b");
    // the parent's list is what counts: SECRET, left out of it, stays (the list is trusted)
    var listed = bash(script + "jy_names=(CONDA_A CONDA_B PATH)\n" + payload, env);
    // a parent that listed nothing: the portable filter runs, SECRET goes
    var unlisted = bash(script + payload, env);

    assertThat(listed).isEqualTo("s3cret|a|b|path|mine\nexit=0\n");
    assertThat(unlisted).isEqualTo("unset|a|b|path|mine\nexit=0\n");
    assertThat(payload.substring(0, payload.indexOf("else"))).doesNotContain("$(");
  }

  private static String bash(String script, Map<String, String> env) throws Exception {
    var pb = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true);
    pb.environment().putAll(env);
    var p = pb.start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    return out;
  }

  @Test
  void refusesAnInheritPatternThatIsNotAVariableName() {
    assertThatThrownBy(() -> PayloadScript.environmentFilter(List.of("A|B) rm -rf /;;")))
        .hasMessageContaining("inherit_environment");
  }

  @Test
  void theStandardInputFileIsReadByTheJobWhateverItsName(@org.junit.jupiter.api.io.TempDir
      java.nio.file.Path dir) throws Exception {
    var name = "in $(id) 'q' `x`.txt";
    java.nio.file.Files.writeString(dir.resolve(name), "line one\nline two\n");
    var spec = new JobSpec("t", null, null, List.of(new Step("cat", List.of())), Map.of(), null,
        null, null, null, null, null, List.of(), List.of(), List.of(), 0, Map.of(), List.of(),
        null, List.of(), null, name, List.of());
    assertThat(run(spec, Map.of(), dir.toFile())).isEqualTo("line one\nline two\nexit=0\n");
  }

  @Test
  void aMissingStandardInputFileFailsWithTheSetupCodeAndSaysWhich(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    var spec = new JobSpec("t", null, null, List.of(new Step("cat", List.of())), Map.of(), null,
        null, null, null, null, null, List.of(), List.of(), List.of(), 0, Map.of(), List.of(),
        null, List.of(), null, "gone.txt", List.of());
    assertThat(run(spec, Map.of(), dir.toFile()))
        .isEqualTo("fail=cannot read the standard input file gone.txt\nexit=127\n");
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
