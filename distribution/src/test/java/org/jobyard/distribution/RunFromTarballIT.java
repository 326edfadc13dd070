package org.jobyard.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/jobyard run} from the unpacked tarball, on the embedded defaults. */
class RunFromTarballIT {
  static final List<String> HOSTILE = List.of("two words", "it's", "\"double\"", "$(touch pwned)",
      "`touch pwned2`", "a;b", "*", "line\nbreak", "back\\slash", "${HOME}", "é 日本", "", "-n",
      "a&b|c>d<e");
  static final Duration TIMEOUT = Duration.ofMinutes(3);

  @TempDir
  Path tmp;
  Tarball tarball;
  Path work;

  @BeforeEach
  void unpack() throws Exception {
    tarball = Tarball.unpackWithWork(tmp);
    work = tarball.work;
  }

  @Test
  void runsAMixedWorkloadAndReportsEveryOutcome() throws Exception {
    var mapper = new ObjectMapper();
    var json = mapper.writeValueAsString(HOSTILE); // JSON strings are valid YAML flow scalars
    var hostileArgs = json.substring(1, json.length() - 1);
    Files.writeString(work.resolve("mixed.yaml"), """
        - name: ok
          executable: /bin/echo
          arguments: [fine]
          stdout: ok.out
        - name: exit-three
          executable: /bin/sh
          arguments: [-c, 'echo about to fail >&2; exit 3']
          stderr: three.err
        - name: hostile
          executable: printf
          arguments: ["%%s\\\\0", %s]
          stdout: hostile.out
        - name: env
          executable: /bin/sh
          arguments: [-c, 'printf %%s "$TRICKY"']
          environment: {TRICKY: "$(id) `id` ; 'q' \\"dq\\""}
          stdout: env.out
        - name: steps
          steps:
            - {executable: /bin/sh, arguments: [-c, 'echo one']}
            - {executable: /bin/sh, arguments: [-c, 'echo two; exit 4']}
            - {executable: /bin/sh, arguments: [-c, 'echo never']}
          stdout: steps.out
        """.formatted(hostileArgs));
    var r = tarball.run(work, TIMEOUT, "run", "--progress", "lines", "mixed.yaml");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    assertThat(r.stdout()).contains("5 job(s)").contains("3 succeeded").contains("2 failed");
    assertThat(r.stdout()).containsPattern("FAILED\\s+exit-three\\s+jy-\\S+\\s+3");
    assertThat(r.stdout()).containsPattern("FAILED\\s+steps\\s+jy-\\S+\\s+4");
    assertThat(work.resolve("ok.out")).hasContent("fine");
    assertThat(work.resolve("three.err")).hasContent("about to fail");
    var got = new ArrayList<>(List.of(Files.readString(work.resolve("hostile.out"),
        StandardCharsets.UTF_8).split("\0", -1)));
    got.removeLast();
    assertThat(got).containsExactlyElementsOf(HOSTILE);
    assertThat(work.resolve("pwned")).doesNotExist();
    assertThat(work.resolve("pwned2")).doesNotExist();
    assertThat(work.resolve("env.out")).hasContent("$(id) `id` ; 'q' \"dq\"");
    assertThat(work.resolve("steps.out")).hasContent("one\ntwo");
  }

  @Test
  void printsASummaryAsJson() throws Exception {
    Files.writeString(work.resolve("two.json"), """
        [{"name": "a", "executable": "true"}, {"name": "b", "executable": "false"}]
        """);
    var r = tarball.run(work, TIMEOUT, "run", "-o", "json", "--progress", "none", "two.json");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    var json = new ObjectMapper().readTree(r.stdout());
    assertThat(json.path("total").asInt()).isEqualTo(2);
    assertThat(json.path("succeeded").asInt()).isEqualTo(1);
    assertThat(json.path("failed").asInt()).isEqualTo(1);
    assertThat(json.path("jobs").findValuesAsText("name")).containsExactly("a", "b");
  }

  @Test
  void runsTheBundledExampleSuccessfully() throws Exception {
    var r = tarball.run(work, TIMEOUT, "run", tarball.home.resolve("examples/hello.yaml")
        .toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout()).contains("3 job(s)").contains("3 succeeded");
    assertThat(work.resolve("hello-environment.out")).hasContent("the answer is 42");
  }

  @Test
  void rejectsAnInvalidFileWholeNamingEachBadFieldAndRunsNothing() throws Exception {
    Files.writeString(work.resolve("bad.yaml"), """
        - name: fine
          executable: /bin/sh
          arguments: [-c, 'touch ran']
        - name: broken
          executable: /bin/true
          resources: {memory: lots, cores: -1}
          retries: many
          colour: blue
        """);
    var r = tarball.run(work, TIMEOUT, "run", "bad.yaml");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.stderr()).contains("bad.yaml: job 2 ('broken'), field 'resources.memory'")
        .contains("field 'resources.cores'").contains("field 'retries'")
        .contains("field 'colour': unknown field").contains("nothing was run");
    assertThat(work.resolve("ran")).doesNotExist();
  }

  @Test
  void explainsItselfWithHelp() throws Exception {
    var r = tarball.run(work, TIMEOUT, "run", "--help");
    assertThat(r.exitCode()).isZero();
    assertThat(r.stdout()).contains("Usage: jobyard run").contains("sweep").contains("--config")
        .contains("Exit status");
    // picocli once expanded ${n} itself and showed square-null
    assertThat(r.stdout()).contains("square-${n}").doesNotContain("null");
  }

  @Test
  void anUnknownClusterInTheConfigIsAClearError() throws Exception {
    Files.writeString(work.resolve("conf.yaml"), """
        clusters:
          hpc: {backend: pbs}
        """);
    Files.writeString(work.resolve("one.yaml"), "{name: a, executable: 'true'}\n");
    var r = tarball.run(work, TIMEOUT, "run", "--config", "conf.yaml", "one.yaml");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.stderr()).contains("cluster 'hpc'").contains("backend 'pbs' is not installed")
        .contains("local");
  }

  @Test
  void runsAParameterSweep() throws Exception {
    var r = tarball.run(work, TIMEOUT, Map.of(), "run", "-o", "json", "--progress", "none",
        tarball.home.resolve("examples/sweep.yaml").toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    var json = new ObjectMapper().readTree(r.stdout());
    assertThat(json.path("succeeded").asInt()).isEqualTo(20);
    assertThat(json.path("jobs").findValuesAsText("name")).contains("square-1", "square-20");
  }

  @Test
  void drawsAProgressBarOrPlainLines() throws Exception {
    Files.writeString(work.resolve("two.yaml"), "[{name: a, executable: 'true'}, "
        + "{name: b, executable: 'true'}]\n");
    var bar = tarball.run(work, TIMEOUT, "run", "--progress", "bar", "two.yaml");
    assertThat(bar.exitCode()).as(bar.toString()).isZero();
    assertThat(bar.stderr()).contains("\r[").contains("##############################] 2/2");
    // not a terminal (as here): plain lines, no carriage returns
    var lines = tarball.run(work, TIMEOUT, "run", "two.yaml");
    assertThat(lines.exitCode()).as(lines.toString()).isZero();
    assertThat(lines.stderr()).doesNotContain("\r").contains("2/2 done");
  }
}
