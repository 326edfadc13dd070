package org.jobyard.engine.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobFileReaderTest {
  @Test
  void readsAFullJob() throws Exception {
    var specs = JobFileReader.parse("f.yaml", """
        name: full
        session: s1
        executable: /bin/echo
        arguments: [a, 2, "b c"]
        environment: {K: v, N: 3}
        directory: /tmp
        stdout: o.txt
        stderr: e.txt
        resources: {cores: 2, memory: 2GB, walltime: 1h30m, nodes: 1, gpus: 1}
        queue: debug
        account: proj
        inputs: [in.txt, {source: a/b.dat, destination: b.dat}]
        outputs: [{source: result.txt, destination: out/result.txt}]
        clusters: [hpc, local]
        retries: 2
        native: {slurm: {constraint: haswell}}
        """, false);
    var s = specs.getFirst();
    assertThat(s.name()).isEqualTo("full");
    assertThat(s.steps().getFirst().argv()).containsExactly("/bin/echo", "a", "2", "b c");
    assertThat(s.environment()).containsEntry("N", "3");
    assertThat(s.resources().memoryMb()).isEqualTo(1908); // 2 * 10^9 bytes, rounded up
    assertThat(s.resources().walltime()).isEqualTo(Duration.ofMinutes(90));
    assertThat(s.inputFiles()).hasSize(2);
    assertThat(s.inputFiles().getFirst().destination()).isEqualTo("in.txt");
    assertThat(s.clusters()).containsExactly("hpc", "local");
    assertThat(s.nativeOptions("slurm")).containsEntry("constraint", "haswell");
  }

  @Test
  void readsListsJobsDocumentsAndJson() throws Exception {
    assertThat(JobFileReader.parse("l.yaml", "- {name: a, executable: x}\n- {name: b, "
        + "executable: y}\n", false)).hasSize(2);
    assertThat(JobFileReader.parse("j.yaml", "jobs:\n  - {name: a, executable: x}\n", false))
        .hasSize(1);
    assertThat(JobFileReader.parse("x.json", "{\"name\": \"a\", \"steps\": [{\"executable\": "
        + "\"x\"}, {\"executable\": \"y\", \"arguments\": [\"1\"]}]}", true).getFirst().steps())
        .hasSize(2);
  }

  @Test
  void expandsASweepOverEveryCombination() throws Exception {
    var specs = JobFileReader.parse("s.yaml", """
        sweep: {x: [1, 2, 3], y: [a, b]}
        job: {name: 'j-${x}-${y}', executable: echo, arguments: ['${x}', '${y}']}
        """, false);
    assertThat(specs).hasSize(6);
    assertThat(specs).extracting(s -> s.name()).contains("j-1-a", "j-3-b");
    assertThat(specs.get(5).steps().getFirst().arguments()).containsExactly("3", "b");
  }

  @Test
  void aSweepRangeAndUnnamedJobsGetNumbered() throws Exception {
    var specs = JobFileReader.parse("s.yaml", """
        sweep: {n: {from: 1, to: 4}}
        job: {name: same, executable: echo, arguments: ['${n}']}
        """, false);
    assertThat(specs).extracting(s -> s.name()).containsExactly("same-1", "same-2", "same-3",
        "same-4");
  }

  @Test
  void reportsEveryProblemWithFileJobAndField() {
    assertThatThrownBy(() -> JobFileReader.parse("bad.yaml", """
        - name: one
          executable: x
          arguments: "not a list"
        - name: two
          executable: x
          resources: {memory: lots, walltime: soon, cpus: 3}
          environment: {"1BAD": x}
          retries: -1
        - executable: x
          steps: [{executable: y}]
        """, false))
        .isInstanceOf(JobFileException.class)
        .satisfies(e -> assertThat(((JobFileException) e).problems()).contains(
            "bad.yaml: job 1 ('one'), field 'arguments': expected a list, e.g. [a, b]; a single "
                + "string is not split into words")
            .anySatisfy(p -> assertThat(p).startsWith("bad.yaml: job 2 ('two'), field "
                + "'resources.memory'"))
            .anySatisfy(p -> assertThat(p).contains("field 'resources.walltime'"))
            .anySatisfy(p -> assertThat(p).contains("field 'resources.cpus': unknown field"))
            .anySatisfy(p -> assertThat(p).contains("field 'environment.1BAD'"))
            .anySatisfy(p -> assertThat(p).contains("field 'retries'"))
            .anySatisfy(p -> assertThat(p).contains("job 3, field 'name': required"))
            .anySatisfy(p -> assertThat(p).contains("job 3, field 'steps': give either")));
  }

  @Test
  void rejectsBrokenSyntaxWithTheLine() {
    assertThatThrownBy(() -> JobFileReader.parse("x.yaml", "name: a\n  bad: [\n", false))
        .hasMessageStartingWith("x.yaml:").hasMessageContaining("not valid YAML");
  }

  @Test
  void rejectsASweepWithoutItsPlaceholder() {
    assertThatThrownBy(() -> JobFileReader.parse("s.yaml",
        "sweep: {n: [1]}\njob: {name: a, executable: x}\n", false))
        .hasMessageContaining("unused: [n]");
  }

  @Test
  void parsesMemorySizes() {
    assertThat(JobFileReader.memoryMb("512M")).isEqualTo(512);
    assertThat(JobFileReader.memoryMb("512MiB")).isEqualTo(512);
    assertThat(JobFileReader.memoryMb("512MB")).isEqualTo(489); // 512 * 10^6 bytes, rounded up
    assertThat(JobFileReader.memoryMb("2G")).isEqualTo(2048);
    assertThat(JobFileReader.memoryMb("1.5G")).isEqualTo(1536);
    assertThat(JobFileReader.memoryMb("1.5g")).isEqualTo(1536);
    assertThat(JobFileReader.memoryMb("2GiB")).isEqualTo(2048);
    assertThat(JobFileReader.memoryMb("2 GB")).isEqualTo(1908);
    assertThat(JobFileReader.memoryMb("1024")).isEqualTo(1024);
    assertThat(JobFileReader.memoryMb("0.5")).isEqualTo(1);
    assertThat(JobFileReader.memoryMb("1TiB")).isEqualTo(1024 * 1024);
    assertThat(JobFileReader.memoryMb("100K")).isEqualTo(1);
    assertThat(JobFileReader.memoryMb("lots")).isEqualTo(-1);
    assertThat(JobFileReader.memoryMb("0G")).isEqualTo(-1);
    assertThat(JobFileReader.memoryMb("1.5.0G")).isEqualTo(-1);
    assertThat(JobFileReader.memoryMb("2 GiBs")).isEqualTo(-1);
  }

  @Test
  void readsWalltimesExactlyAsSlurmsTimeOption() throws Exception {
    for (var c : List.of(List.of("30:00", "PT30M"), List.of("90:30", "PT1H30M30S"),
        List.of("01:30:00", "PT1H30M"), List.of("2-00", "PT48H"), List.of("1-06:30", "PT30H30M"),
        List.of("1-00:00:10", "PT24H10S"), List.of("1h30m", "PT1H30M"), List.of("45s", "PT45S"))) {
      var spec = JobFileReader.parse("w.yaml", "{name: a, executable: x, resources: {walltime: '"
          + c.get(0) + "'}}", false).getFirst();
      assertThat(spec.resources().walltime()).as(c.get(0)).isEqualTo(Duration.parse(c.get(1)));
    }
  }

  @Test
  void refusesAWalltimeWithoutAUnitSayingWhichToAdd() {
    assertThatThrownBy(() -> JobFileReader.parse("w.yaml",
        "{name: a, executable: x, resources: {walltime: 30}}", false))
        .hasMessage("w.yaml: job 'a', field 'resources.walltime': '30' has no unit; add one, "
            + "e.g. 30m for minutes (as Slurm reads it) or 30s for seconds");
  }

  @Test
  void theExamplesInTheMemoryErrorAreAccepted() throws Exception {
    var message = "";
    try {
      JobFileReader.parse("m.yaml", "{name: a, executable: x, resources: {memory: lots}}", false);
    } catch (JobFileException e) {
      message = e.getMessage();
    }
    var examples = java.util.regex.Pattern.compile("like (.*?) \\(").matcher(message);
    assertThat(examples.find()).as(message).isTrue();
    for (var example : examples.group(1).split(", | or ")) {
      assertThat(JobFileReader.memoryMb(example)).as(example).isPositive();
    }
  }

}
