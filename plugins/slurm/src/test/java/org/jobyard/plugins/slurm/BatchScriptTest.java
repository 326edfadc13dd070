package org.jobyard.plugins.slurm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobSpec;
import org.jobyard.api.Resources;
import org.jobyard.plugins.slurm.SlurmSettings.Accounting;
import org.junit.jupiter.api.Test;

/** The sbatch options one attempt gets from its spec and its cluster's settings. */
class BatchScriptTest {
  static final SlurmSettings CLUSTER = new SlurmSettings("debug", "proj-default", "/w", null, 50, 4,
      Duration.ofSeconds(60), Accounting.AUTO);

  static JobSpec spec(Resources resources, String queue, String account,
      Map<String, String> slurm) {
    return new JobSpec("j", null, null, List.of(new JobSpec.Step("true", List.of())), Map.of(),
        null, null, null, resources, queue, account, List.of(), List.of(), List.of(), 0,
        Map.of("slurm", slurm));
  }

  static List<String> options(JobSpec spec) throws BackendException {
    return BatchScript.build("jy-abc.1", "/w/jy-abc.1", spec, CLUSTER).options();
  }

  @Test
  void theAttemptsTagIsItsJobNameAndCommentAndNamesItsFolder() throws Exception {
    assertThat(options(spec(Resources.NONE, null, null, Map.of()))).startsWith("--parsable",
        "--job-name=jy-abc.1", "--comment=jy-abc.1", "--chdir=/w/jy-abc.1",
        "--output=/w/jy-abc.1/stdout", "--error=/w/jy-abc.1/stderr");
  }

  @Test
  void resourcesQueueAndAccountBecomeSbatchOptions() throws Exception {
    var spec = spec(new Resources(4, 8192, Duration.ofHours(2), 2, 1), "gpu", "proj123",
        Map.of());

    assertThat(options(spec)).contains("--partition=gpu", "--account=proj123",
        "--cpus-per-task=4", "--mem=8192M", "--time=120", "--nodes=2", "--gres=gpu:1");
  }

  @Test
  void sbatchHandsOverTheWholeEnvironmentAndTheScriptKeepsWhatTheJobInherits() throws Exception {
    var spec = new JobSpec("j", null, null, List.of(new JobSpec.Step("true", List.of())),
        Map.of(), null, null, null, Resources.NONE, null, null, List.of(), List.of(), List.of(),
        0, Map.of(), List.of(), null, List.of(), null, "in put.txt", List.of("CONDA_*"));
    var submission = BatchScript.build("jy-abc.1", "/w/jy-abc.1", spec, CLUSTER);

    assertThat(submission.options()).contains("--export=ALL");
    assertThat(submission.script()).contains("|CONDA_*) continue ;; esac",
        "exec <'in put.txt'");
    assertThatThrownBy(() -> options(spec(Resources.NONE, null, null, Map.of("export", "NONE"))))
        .hasMessageContaining("'export' is set by Jobyard itself");
  }

  @Test
  void placementBecomesTasksExclusiveReservationAndTmpOptions() throws Exception {
    var spec = spec(Resources.NONE, null, null, Map.of())
        .withPlacement(new JobSpec.Placement(16, 4, true, " maint ", 2048));

    assertThat(options(spec)).contains("--ntasks=16", "--ntasks-per-node=4", "--exclusive",
        "--reservation=maint", "--tmp=2048M");
    assertThat(options(spec(Resources.NONE, null, null, Map.of())))
        .noneMatch(s -> s.startsWith("--ntasks") || s.equals("--exclusive")
            || s.startsWith("--reservation") || s.startsWith("--tmp"));
  }

  @Test
  void theClustersPartitionAndAccountApplyWhenTheJobNamesNone() throws Exception {
    var o = options(spec(Resources.NONE, " ", null, Map.of()));

    assertThat(o).contains("--partition=debug", "--account=proj-default")
        .noneMatch(s -> s.startsWith("--cpus-per-task") || s.startsWith("--mem")
            || s.startsWith("--time") || s.startsWith("--nodes") || s.startsWith("--gres"));
  }

  @Test
  void walltimeIsRoundedUpToWholeMinutesAsSlurmCountsIt() throws Exception {
    assertThat(BatchScript.walltimeMinutes(Duration.ofSeconds(1))).isEqualTo(1);
    assertThat(BatchScript.walltimeMinutes(Duration.ofSeconds(60))).isEqualTo(1);
    assertThat(BatchScript.walltimeMinutes(Duration.ofSeconds(61))).isEqualTo(2);
    assertThat(BatchScript.walltimeMinutes(Duration.ofMillis(60_001))).isEqualTo(2);
    assertThat(options(spec(new Resources(0, 0, Duration.ofSeconds(90), 0, 0), null, null,
        Map.of()))).contains("--time=2");
  }

  @Test
  void nativeOptionsBecomeLongSbatchOptionsInNameOrder() throws Exception {
    var o = options(spec(Resources.NONE, null, null,
        Map.of("qos", "high", "constraint", "haswell", "exclusive", "")));

    assertThat(o.subList(o.size() - 3, o.size())).containsExactly("--constraint=haswell",
        "--exclusive", "--qos=high");
  }

  @Test
  void nativeOptionsCannotChangeTheJobsIdentityOrFiles() {
    for (var reserved : List.of("job-name", "comment", "output", "chdir", "parsable")) {
      assertThatThrownBy(() -> options(spec(Resources.NONE, null, null, Map.of(reserved, "x"))))
          .as(reserved).isInstanceOf(BackendException.class)
          .hasMessageContaining("'" + reserved + "' is set by Jobyard itself")
          .matches(e -> !((BackendException) e).isRetryable());
    }
    assertThatThrownBy(() -> options(spec(Resources.NONE, null, null, Map.of("Q S", "x"))))
        .hasMessageContaining("must be a long sbatch option name");
    assertThatThrownBy(() -> options(spec(Resources.NONE, null, null, Map.of("qos", "a\nb"))))
        .hasMessageContaining("must be on one line");
  }

  @Test
  void oneFileForStdoutAndStderrMeansNoErrorOption() throws Exception {
    var spec = new JobSpec("j", null, null, List.of(new JobSpec.Step("true", List.of())),
        Map.of(), null, "/o/log", "/o/log", Resources.NONE, null, null, List.of(), List.of(),
        List.of(), 0, Map.of());

    assertThat(options(spec)).contains("--output=/w/jy-abc.1/stdout")
        .noneMatch(s -> s.startsWith("--error"));
  }
}
