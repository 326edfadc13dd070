package org.jobyard.engine.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobSpec.Condition;
import org.jobyard.api.JobSpec.Dependency;
import org.junit.jupiter.api.Test;

/** {@code after}, {@code after_condition} and the retry rules in job files: issue 20. */
class JobFileGraphAndRetryTest {
  static List<JobSpec> read(String yaml) throws JobFileException {
    return JobFileReader.parse("g.yaml", yaml, false);
  }

  static List<String> problems(String yaml) {
    try {
      read(yaml);
      throw new AssertionError("accepted: " + yaml);
    } catch (JobFileException e) {
      return e.problems();
    }
  }

  @Test
  void readsEdgesWithTheirConditionPerEdgeOrPerJob() throws Exception {
    var specs = read("""
        - {name: prep, executable: x}
        - {name: fit, executable: x, after: [prep]}
        - {name: clean, executable: x, after: [prep, {job: fit, condition: failure}],
           after_condition: any}
        - {name: early, executable: x, after: [jy-abcdefghijkl]}
        """);
    assertThat(specs.get(1).after()).containsExactly(new Dependency("prep", Condition.SUCCESS));
    assertThat(specs.get(2).after()).containsExactly(new Dependency("prep", Condition.ANY),
        new Dependency("fit", Condition.FAILURE));
    assertThat(specs.get(3).after()).containsExactly(
        new Dependency("jy-abcdefghijkl", Condition.SUCCESS));
  }

  @Test
  void aSweepInAListOfJobsFansOutAfterOneJobAndAnotherFansIn() throws Exception {
    var specs = read("""
        jobs:
          - {name: prep, executable: x}
          - sweep: {n: [1, 2, 3]}
            job: {name: 'fit-${n}', executable: x, arguments: ['${n}'], after: [prep]}
          - {name: merge, executable: x, after: ['fit-*']}
        """);
    assertThat(specs).extracting(JobSpec::name)
        .containsExactly("prep", "fit-1", "fit-2", "fit-3", "merge");
    assertThat(specs.get(2).after()).extracting(Dependency::job).containsExactly("prep");
  }

  @Test
  void refusesUnknownNamesAndCyclesNamingTheFileTheJobsAndTheField() {
    assertThat(problems("""
        - {name: a, executable: x, after: [b]}
        - {name: b, executable: x}
        - {name: d, executable: x, after: [nobody]}
        """)).containsExactly(
        "g.yaml: job 3 ('d'), field 'after[0]': no other job named 'nobody' in g.yaml; name "
            + "another job of the same file (a * matches any characters) or give an earlier "
            + "job's id (jy-...)");
    assertThat(problems("""
        - {name: a, executable: x, after: [b]}
        - {name: b, executable: x, after: [c]}
        - {name: c, executable: x, after: [a]}
        """)).singleElement().asString().startsWith("g.yaml: jobs 'a' -> 'b' -> 'c' -> 'a' "
            + "wait for each other (field 'after')");
    assertThat(problems("{name: a, executable: x, after: [a]}")).singleElement().asString()
        .contains("job 'a', field 'after[0]': the job waits for itself");
  }

  @Test
  void refusesMalformedEdgesOneLinePerProblem() {
    assertThat(problems("""
        - {name: a, executable: x}
        - {name: b, executable: x, after: a}
        - {name: c, executable: x, after: [{job: a, condition: sometimes, when: now}]}
        - {name: d, executable: x, after_condition: any}
        """)).containsExactlyInAnyOrder(
        "g.yaml: job 2 ('b'), field 'after': expected a list of job names or ids, e.g. [prep] "
            + "or [{job: prep, condition: any}]",
        "g.yaml: job 3 ('c'), field 'after[0].when': unknown field; an edge has 'job' and "
            + "'condition'",
        "g.yaml: job 3 ('c'), field 'after[0].condition': expected success, any or failure, "
            + "got 'sometimes'",
        "g.yaml: job 4 ('d'), field 'after_condition': given without 'after'; name the jobs to "
            + "wait for in 'after'");
  }

  @Test
  void aLongChainIsCheckedWithoutRecursion() throws Exception {
    var sb = new StringBuilder("- {name: j0, executable: x}\n");
    for (int i = 1; i < 2_000; i++) {
      sb.append("- {name: j").append(i).append(", executable: x, after: [j").append(i - 1)
          .append("]}\n");
    }
    assertThat(read(sb.toString())).hasSize(2_000);
    sb.append("- {name: j0, executable: x, after: [j1999]}\n");
    assertThatThrownBy(() -> read(sb.toString())).hasMessageContaining("wait for each other");
  }

  @Test
  void readsRetryRulesAndSuccessExitCodes() throws Exception {
    var specs = read("""
        - {name: a, executable: x, retries: 3, retry_on: [lost, 137, 143], retry_elsewhere: true,
           success_exit_codes: [0, 2]}
        - {name: b, executable: x, retries: 1, retry_elsewhere: true}
        - {name: c, executable: x, retries: 1}
        """);
    assertThat(specs.get(0).retryRule()).isEqualTo(new JobSpec.RetryRule(List.of(137, 143), true,
        true));
    assertThat(specs.get(0).successExitCodes()).containsExactly(0, 2);
    assertThat(specs.get(1).retryRule()).isEqualTo(new JobSpec.RetryRule(List.of(), false, true));
    assertThat(specs.get(2).retryRule()).isNull();
    assertThat(problems("""
        {name: a, executable: x, retry_on: [sometimes, 300], retry_elsewhere: yes please,
         success_exit_codes: []}
        """)).containsExactlyInAnyOrder(
        "g.yaml: job 'a', field 'retry_on[0]': expected an exit code from 0 to 255 or 'lost' (no "
            + "exit code: lost, evicted, node failure), got 'sometimes'",
        "g.yaml: job 'a', field 'retry_on[1]': expected an exit code from 0 to 255 or 'lost' (no "
            + "exit code: lost, evicted, node failure), got '300'",
        "g.yaml: job 'a', field 'retry_elsewhere': expected true or false, got 'yes please'",
        "g.yaml: job 'a', field 'success_exit_codes': expected a non-empty list of exit codes, "
            + "e.g. [0, 3]");
  }

  @Test
  void readsARetryDelayWithItsBackoffAndRefusesBadOnesNamingTheField() throws Exception {
    var specs = read("""
        - {name: a, executable: x, retries: 3, retry_on: [lost], retry_delay: 30s, retry_backoff: 2}
        - {name: b, executable: x, retries: 1, retry_delay: 1m30s}
        """);
    assertThat(specs.get(0).retryRule()).isEqualTo(new JobSpec.RetryRule(List.of(), true, false,
        java.time.Duration.ofSeconds(30), 2));
    assertThat(specs.get(1).retryRule()).isEqualTo(new JobSpec.RetryRule(List.of(), false, false,
        java.time.Duration.ofSeconds(90), 1));
    assertThat(problems("""
        {name: a, executable: x, retries: 1, retry_delay: 30, retry_backoff: 0.5}
        """)).containsExactlyInAnyOrder(
        "g.yaml: job 'a', field 'retry_delay': expected a duration with a unit, e.g. 30s, 5m or "
            + "1h, at most 24h, got '30'",
        "g.yaml: job 'a', field 'retry_backoff': expected a number from 1 (the same delay every "
            + "time) to 10, e.g. 2 to double it each retry, got '0.5'");
    assertThat(problems("{name: a, executable: x, retry_delay: 2d, retry_backoff: twice}"))
        .hasSize(2).allMatch(p -> p.contains("retry_"));
  }

  @Test
  void readsPlacementFieldsAndRefusesBadOnesNamingTheField() throws Exception {
    var spec = read("""
        - {name: a, executable: x, reservation: maint,
           resources: {processes: 16, processes_per_node: 4, exclusive: true, disk: 2G}}
        - {name: b, executable: x}
        """);
    assertThat(spec.get(0).placement()).isEqualTo(new JobSpec.Placement(16, 4, true, "maint",
        2048));
    assertThat(spec.get(1).placement()).isEqualTo(JobSpec.Placement.NONE);
    assertThat(problems("""
        {name: a, executable: x, reservation: [x],
         resources: {processes: -1, processes_per_node: two, exclusive: sure, disk: lots}}
        """)).hasSize(5).anyMatch(p -> p.contains("field 'reservation'"))
        .anyMatch(p -> p.contains("field 'resources.processes'"))
        .anyMatch(p -> p.contains("field 'resources.processes_per_node'"))
        .anyMatch(p -> p.contains("field 'resources.exclusive': expected true or false"))
        .anyMatch(p -> p.contains("field 'resources.disk': expected a size"));
  }
}
