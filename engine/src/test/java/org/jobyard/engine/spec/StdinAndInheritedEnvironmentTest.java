package org.jobyard.engine.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.EnumSet;
import java.util.List;
import org.jobyard.api.Capability;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobSpec.FileTransfer;
import org.junit.jupiter.api.Test;

/** The job format's {@code stdin} and {@code inherit_environment} (issue 20). */
class StdinAndInheritedEnvironmentTest {
  private static JobSpec read(String yaml) throws JobFileException {
    return JobFileReader.parse("f.yaml", yaml, false).getFirst();
  }

  private static List<String> problems(String yaml) {
    var e = catchThrowableOfType(JobFileException.class,
        () -> JobFileReader.parse("f.yaml", yaml, false));
    assertThat(e).as("refused: %s", yaml).isNotNull();
    return e.problems();
  }

  @Test
  void stdinIsStagedAsAnInputAndReadUnderItsOwnName() throws Exception {
    var s = read("{name: a, executable: cat, stdin: 'data/in $x.txt'}");
    assertThat(s.stdin()).isEqualTo("in $x.txt");
    assertThat(s.inputFiles()).containsExactly(new FileTransfer("data/in $x.txt", "in $x.txt"));
  }

  @Test
  void stdinThatIsAlreadyAnInputIsStagedOnce() throws Exception {
    var s = read("{name: a, executable: cat, inputs: [data/in.txt], stdin: data/in.txt}");
    assertThat(s.stdin()).isEqualTo("in.txt");
    assertThat(s.inputFiles()).hasSize(1);
  }

  @Test
  void refusesStdinThatIsAFolderOrCollidesWithAnotherInput() {
    assertThat(problems("{name: a, executable: cat, stdin: data/}")).singleElement().asString()
        .contains("job 'a', field 'stdin'").contains("is a folder");
    assertThat(problems("{name: a, executable: cat, stdin: [x]}")).singleElement().asString()
        .contains("field 'stdin'");
    assertThat(problems("{name: a, executable: cat, inputs: [one/in.txt], stdin: two/in.txt}"))
        .singleElement().asString().contains("field 'stdin'")
        .contains("inputs[0] ('one/in.txt')").contains("rename one of the files");
  }

  @Test
  void inheritEnvironmentIsOffByDefaultAllWithTrueOrAnAllowList() throws Exception {
    assertThat(read("{name: a, executable: x}").inheritEnvironment()).isEmpty();
    assertThat(read("{name: a, executable: x, inherit_environment: false}")
        .inheritEnvironment()).isEmpty();
    assertThat(read("{name: a, executable: x, inherit_environment: true}")
        .inheritsAllEnvironment()).isTrue();
    assertThat(read("{name: a, executable: x, inherit_environment: [PYTHONPATH, 'CONDA_*']}")
        .inheritEnvironment()).containsExactly("PYTHONPATH", "CONDA_*");
  }

  @Test
  void refusesInheritEnvironmentValuesThatAreNotVariableNames() {
    assertThat(problems("{name: a, executable: x, inherit_environment: yes please}"))
        .singleElement().asString().contains("field 'inherit_environment'")
        .contains("expected true, false or a list of variable names");
    assertThat(problems("{name: a, executable: x, inherit_environment: [PATH, 'A|B', '$(id)']}"))
        .hasSize(2).anySatisfy(p -> assertThat(p).contains("inherit_environment[1]")
            .contains("'A|B'"))
        .anySatisfy(p -> assertThat(p).contains("inherit_environment[2]"));
  }

  @Test
  void aBackendWithoutTheCapabilitiesRefusesBothFieldsByName() throws Exception {
    var s = read("{name: a, executable: cat, stdin: in.txt, inherit_environment: [HOME]}");
    assertThat(Placements.unsupported(s, EnumSet.noneOf(Capability.class)))
        .containsExactly("stdin", "inherit_environment");
    assertThat(Placements.unsupported(s,
        EnumSet.of(Capability.STDIN, Capability.INHERIT_ENVIRONMENT))).isEmpty();
    assertThat(Placements.unsupported(read("{name: a, executable: cat}"),
        EnumSet.noneOf(Capability.class))).isEmpty();
  }

  @Test
  void anInputFromAUrlIsReadAsSuchAndRefusedByABackendThatCannotFetchIt() throws Exception {
    var s = read("{name: a, executable: cat, inputs: ['http://127.0.0.1:8080/d/in.dat', "
        + "'local/http:x', {source: 'gsiftp://se.example.org/f', destination: f}]}");
    assertThat(s.inputFiles()).extracting(FileTransfer::fromUrl)
        .containsExactly(true, false, true);
    assertThat(s.inputFiles().getFirst().destination()).isEqualTo("in.dat");
    assertThat(Placements.unsupported(s, EnumSet.of(Capability.STAGING)))
        .containsExactly("inputs.source (a URL)");
    assertThat(Placements.unsupported(s, EnumSet.of(Capability.URL_INPUTS))).isEmpty();
    assertThat(Placements.unsupported(read("{name: a, executable: cat, inputs: [in.dat]}"),
        EnumSet.noneOf(Capability.class))).as("local inputs need no capability").isEmpty();
  }
}
