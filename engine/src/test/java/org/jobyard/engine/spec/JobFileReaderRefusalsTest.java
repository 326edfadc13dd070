package org.jobyard.engine.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Input that used to be accepted wrongly or to crash the reader (issue 13). */
class JobFileReaderRefusalsTest {
  private static List<String> problems(String text, boolean json) {
    var e = catchThrowableOfType(JobFileException.class,
        () -> JobFileReader.parse("f", text, json));
    assertThat(e).as("refused: %s", text).isNotNull();
    return e.problems();
  }

  private static List<String> problems(String yaml) {
    return problems(yaml, false);
  }

  @Test
  void refusesYamlAliasesInsteadOfRunningTheAnchorsName() {
    assertThat(problems("""
        - {name: a, executable: &exe /bin/echo}
        - {name: b, executable: *exe}
        """)).singleElement().asString()
        .contains("field '[1].executable'").contains("aliases (*exe) are not supported");
  }

  @Test
  void refusesSeveralDocumentsInOneFileOrBody() {
    assertThat(problems("{name: a, executable: x}\n---\n{name: b, executable: y}\n"))
        .singleElement().asString().contains("a second YAML document");
    assertThat(problems("{\"name\": \"a\", \"executable\": \"x\"} {\"name\": \"b\"}", true))
        .singleElement().asString().contains("a second JSON value");
    assertThat(problems("{\"name\": \"a\", \"executable\": \"x\"} trailing", true))
        .singleElement().asString().contains("not valid JSON");
  }

  @Test
  void namesAnEmptyKeyAsSuch() {
    // found by the property test: the refusal named "field ''"
    assertThat(problems("{name: a, executable: x, \"\": 1}")).singleElement().asString()
        .contains("field '<empty key>': unknown field");
    assertThat(problems("{jobs: [], \"\": 1}")).anySatisfy(p -> assertThat(p)
        .contains("unknown field '<empty key>' beside 'jobs'"));
  }

  @Test
  void refusesAKeyGivenTwiceNamingIt() {
    assertThat(problems("name: a\nexecutable: x\nname: b\n")).singleElement().asString()
        .contains("field 'name' is given twice");
    assertThat(problems("{\"name\": \"a\", \"executable\": \"x\", \"resources\": {\"cores\": 1, "
        + "\"cores\": 2}}", true)).singleElement().asString()
        .contains("field 'resources.cores' is given twice");
  }

  @Test
  void refusesMisspeltOrNonNumericSweepRanges() {
    var template = "\njob: {name: 'j-${n}', executable: echo}\n";
    assertThat(problems("sweep: {n: {from: 1, to: 3, stp: 1}}" + template))
        .anySatisfy(p -> assertThat(p).contains("field 'sweep.n'").contains("unknown field 'stp'"));
    assertThat(problems("sweep: {n: {from: abc, to: xyz}}" + template))
        .anySatisfy(p -> assertThat(p).contains("field 'sweep.n.from': expected a whole number"))
        .anySatisfy(p -> assertThat(p).contains("field 'sweep.n.to'"));
    assertThat(problems("sweep: {n: {to: 3}}" + template))
        .anySatisfy(p -> assertThat(p).contains("field 'sweep.n.from'"));
    assertThat(problems("sweep: {n: [1, [2]]}" + template))
        .anySatisfy(p -> assertThat(p).contains("field 'sweep.n': expected plain values"));
  }

  @Test
  void refusesASweepRangeOfMoreValuesThanAFileMayHoldWithoutOverflowing() {
    assertThat(problems("sweep: {n: {from: -9223372036854775808, to: 9223372036854775807}}\n"
        + "job: {name: 'j-${n}', executable: echo}\n")).singleElement().asString()
        .contains("field 'sweep.n'").contains("at most 100000 values");
  }

  @Test
  void readsARangeEndingAtTheLargestLongWithoutWrappingAround() throws Exception {
    var specs = JobFileReader.parse("f", "sweep: {n: {from: 9223372036854775800, to: "
        + "9223372036854775807}}\njob: {name: 'j-${n}', executable: echo}\n", false);
    assertThat(specs).hasSize(8);
    assertThat(specs.getLast().name()).isEqualTo("j-9223372036854775807");
  }

  @Test
  void refusesWholeNumbersThatDoNotFitInsteadOfTruncatingThem() {
    assertThat(problems("{name: a, executable: x, retries: 4294967297}"))
        .singleElement().asString().contains("field 'retries'");
    assertThat(problems("{name: a, executable: x, resources: {cores: -4294967295}}"))
        .singleElement().asString().contains("field 'resources.cores'");
    assertThat(problems("{name: a, executable: x, resources: {gpus: 99999999999999999999999}}"))
        .singleElement().asString().contains("field 'resources.gpus'");
  }

  @Test
  void refusesMemoryAndWalltimeTooLargeNamingTheField() {
    assertThat(problems("{name: a, executable: x, resources: {memory: 99999999999999999999TB}}"))
        .singleElement().asString().contains("field 'resources.memory'");
    assertThat(problems("{name: a, executable: x, resources: {memory: 9000000000000T}}"))
        .singleElement().asString().contains("field 'resources.memory'");
    assertThat(problems("{name: a, executable: x, resources: {walltime: 99999999999999999999}}"))
        .singleElement().asString().contains("field 'resources.walltime'");
    assertThat(problems("{name: a, executable: x, resources: {walltime: 9999999999999999d}}"))
        .singleElement().asString().contains("field 'resources.walltime'");
  }

  @Test
  void refusesAFolderAsAnOutputAndNulsInPathsNamingTheField() {
    assertThat(problems("{name: a, executable: x, outputs: [{source: /}]}"))
        .singleElement().asString().contains("field 'outputs[0].source'");
    assertThat(problems("{name: a, executable: x, inputs: [/]}"))
        .singleElement().asString().contains("field 'inputs[0]'");
    assertThat(problems("{\"name\": \"a\", \"executable\": \"x\", \"stdout\": \"o\\u0000ut\"}", true))
        .singleElement().asString().contains("field 'stdout': contains a NUL");
    assertThat(problems("{\"name\": \"a\", \"executable\": \"x\", \"outputs\": "
        + "[{\"source\": \"a\\u0000b\"}]}", true))
        .singleElement().asString().contains("field 'outputs[0].source': contains a NUL");
    assertThat(problems("{\"name\": \"a\", \"executable\": \"/bin/e\\u0000cho\"}", true))
        .singleElement().asString().contains("field 'executable': contains a NUL");
    assertThat(problems("{\"name\": \"a\", \"steps\": [{\"executable\": \"e\\u0000\"}]}", true))
        .singleElement().asString().contains("field 'steps[0].executable': contains a NUL");
  }

  @Test
  void refusesInputDestinationsOutsideTheJobFolderBeforeAnythingRuns() {
    assertThat(problems("""
        - {name: fine, executable: x}
        - {name: a, executable: x, inputs: [{source: s, destination: /etc/x}]}
        - {name: b, executable: x, inputs: [{source: s, destination: ../x}]}
        - {name: c, executable: x, inputs: [{source: s, destination: d, mode: 0600}]}
        """)).hasSize(3)
        .anySatisfy(p -> assertThat(p).contains("job 2 ('a'), field 'inputs[0].destination'"))
        .anySatisfy(p -> assertThat(p).contains("job 3 ('b'), field 'inputs[0].destination'"))
        .anySatisfy(p -> assertThat(p).contains("job 4 ('c'), field 'inputs[0].mode'"));
  }

  @Test
  void refusesControlCharactersInTheSessionAsInTheName() {
    assertThat(problems("{name: a, executable: x, session: \"s\\e[31mred\\nforged row\"}"))
        .singleElement().asString().contains("field 'session'");
    assertThat(problems("{name: \"a\\nb\", executable: x}"))
        .singleElement().asString().contains("job 'a\\nb', field 'name'");
  }

  @Test
  void refusesAHugeYamlScalarInLinearTime() {
    var started = System.nanoTime();
    assertThat(problems("name: a\nexecutable: " + "x".repeat(8_000_000) + "\n"))
        .singleElement().asString().contains("f:2: a YAML value of more than");
    assertThat(problems("{name: a, executable: x}\n" + "#".repeat(11 * 1024 * 1024)))
        .singleElement().asString().contains("at most 10485760");
    // quadratic scanning took over 20 s for this; generous for a loaded machine
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void stillReadsLongValuesAndJsonBodies() throws Exception {
    var arg = "y".repeat(100_000);
    assertThat(JobFileReader.parse("f", "{name: a, executable: x, arguments: [" + arg + "]}",
        false).getFirst().steps().getFirst().arguments()).containsExactly(arg);
    assertThat(JobFileReader.parse("f", "{\"name\": \"a\", \"executable\": \"" + "z".repeat(300_000)
        + "\"}", true)).hasSize(1);
  }
}
