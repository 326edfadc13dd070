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
    assertThat(s.resources().memoryMb()).isEqualTo(2048);
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
    assertThat(JobFileReader.memoryMb("512MB")).isEqualTo(512);
    assertThat(JobFileReader.memoryMb("2G")).isEqualTo(2048);
    assertThat(JobFileReader.memoryMb("1024")).isEqualTo(1024);
    assertThat(JobFileReader.memoryMb("1TiB")).isEqualTo(1024 * 1024);
    assertThat(JobFileReader.memoryMb("lots")).isEqualTo(-1);
  }

}
