package org.jobyard.plugins.slurm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.jobyard.api.JobStatus;
import org.jobyard.plugins.slurm.SlurmListings.ExitCode;
import org.jobyard.plugins.slurm.SlurmListings.Markers;
import org.jobyard.plugins.slurm.SlurmListings.QueueError;
import org.jobyard.plugins.slurm.SlurmListings.QueueRow;
import org.jobyard.toolkit.SubmitVerdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The parsers and the state mapping against outputs recorded from Slurm 22.05.8 and 24.11.5: the
 * same commands on the same jobs, each case run against both.
 */
class SlurmListingsTest {

  private static JobStatus status(Recorded slurm, String recording, String id2205) {
    var row = SlurmListings.parseQueue(slurm.get(recording).stdout()).get(slurm.id(id2205));
    return SlurmStates.fromQueue(row, null);
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void readsEveryStateOfAMixedListing(Recorded slurm) {
    var rows = SlurmListings.parseQueue(slurm.get("squeue-mixed").stdout());

    assertThat(rows).containsOnlyKeys(Stream.of("51", "52", "53", "54", "55", "56", "57")
        .map(slurm::id).toList());
    // 22.05 prints the raw wait status (768), 24.11 code:signal (3:0)
    assertThat(rows.get(slurm.id("52"))).isEqualTo(new QueueRow(slurm.id("52"), "FAILED",
        "NonZeroExitCode",
        new ExitCode(3, 0)));
    assertThat(status(slurm, "squeue-mixed", "51")).isEqualTo(new JobStatus.Exited(0, "COMPLETED", null));
    assertThat(status(slurm, "squeue-mixed", "52"))
        .isEqualTo(new JobStatus.Exited(3, "FAILED", "NonZeroExitCode"));
    assertThat(status(slurm, "squeue-mixed", "53")).isEqualTo(new JobStatus.Failed(-1, "FAILED",
        "killed by signal 9 (" + slurm.killedBy9() + ")"));
    assertThat(status(slurm, "squeue-mixed", "54")).isEqualTo(new JobStatus.Running("RUNNING"));
    assertThat(status(slurm, "squeue-mixed", "55")).isEqualTo(new JobStatus.Pending("PENDING",
        "Resources"));
    assertThat(status(slurm, "squeue-mixed", "57")).isEqualTo(new JobStatus.Held("PENDING",
        "JobHeldUser"));
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void theExitCodeFileWinsOverSqueue(Recorded slurm) {
    var row = SlurmListings.parseQueue(slurm.get("squeue-mixed").stdout()).get(slurm.id("52"));
    var markers = new Markers(true, 7, null, false);

    assertThat(SlurmStates.fromQueue(row, markers))
        .isEqualTo(new JobStatus.Exited(7, "FAILED", "NonZeroExitCode"));
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void heldJobsAreHeldWhetherUserOrAdminHeldThem(Recorded slurm) {
    assertThat(status(slurm, "squeue-after-hold", "56")).isEqualTo(new JobStatus.Held("PENDING",
        "JobHeldAdmin"));
    assertThat(status(slurm, "squeue-after-hold", "57")).isEqualTo(new JobStatus.Held("PENDING",
        "JobHeldUser"));
    // scontrol hold on a running job succeeds and only changes its reason
    assertThat(status(slurm, "squeue-after-hold", "54")).isEqualTo(new JobStatus.Running("RUNNING"));
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void cancelledJobsAreCancelledWhateverTheirExitCode(Recorded slurm) {
    assertThat(status(slurm, "squeue-cancelled", "54")).isEqualTo(new JobStatus.Cancelled("CANCELLED",
        "JobHeldAdmin"));
    assertThat(status(slurm, "squeue-cancelled", "55")).isEqualTo(new JobStatus.Cancelled("CANCELLED",
        "Resources"));
    assertThat(status(slurm, "squeue-cancelled", "57")).isEqualTo(new JobStatus.Exited(0, "COMPLETED",
        null));
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void aTimeoutIsAFailureForWalltime(Recorded slurm) {
    // no exit code of its own whatever squeue prints for it (22.05: 0, 24.11: 0:15)
    assertThat(status(slurm, "squeue-timeout", "42")).isEqualTo(new JobStatus.Failed(-1, "TIMEOUT",
        "walltime exceeded"));
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void oneUnknownIdIsAnEmptyListingNotAnOutage(Recorded slurm) {
    var one = slurm.get("squeue-one-unknown");
    assertThat(one.exitCode()).isEqualTo(1);
    assertThat(SlurmListings.classifyQueueFailure(one.stderr())).isEqualTo(QueueError.NO_SUCH_JOB);
    assertThat(SlurmListings.parseQueue(one.stdout())).isEmpty();

    var two = slurm.get("squeue-empty-all-unknown");
    assertThat(two.exitCode()).isZero();
    assertThat(SlurmListings.parseQueue(two.stdout())).isEmpty();

    assertThat(SlurmListings.parseQueue(slurm.get("squeue-known-and-unknown").stdout()))
        .containsOnlyKeys(slurm.id("51"));
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void aDownControllerIsUnavailable(Recorded slurm) {
    for (var name : new String[] {"squeue-ctld-down", "squeue-one-ctld-down",
        "squeue-name-ctld-down"}) {
      var r = slurm.get(name);
      assertThat(r.exitCode()).isEqualTo(1);
      assertThat(SlurmListings.classifyQueueFailure(r.stderr())).isEqualTo(QueueError.UNAVAILABLE);
      assertThat(SlurmListings.isUnavailable(r.stderr())).isTrue();
    }
    assertThat(SlurmListings.isUnavailable(slurm.get("scancel-ctld-down").stderr())).isTrue();
    // scontrol hold says "Unexpected message received" when slurmctld is down (22.05 and 24.11)
    assertThat(SlurmListings.isUnavailable(slurm.get("scontrol-hold-ctld-down").stderr()))
        .isTrue();
    assertThat(SlurmListings.onlyGoneJobs(slurm.get("scontrol-hold-ctld-down").stderr()))
        .isFalse();
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void squeueAskedAboutOneKnownJobListsJustThatJob(Recorded slurm) {
    var one = slurm.get("squeue-one-known");
    assertThat(one.exitCode()).isZero();
    assertThat(SlurmListings.parseQueue(one.stdout())).containsOnlyKeys(slurm.id("52"));
    assertThat(status(slurm, "squeue-one-known", "52"))
        .isEqualTo(new JobStatus.Exited(3, "FAILED", "NonZeroExitCode"));
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void scontrolShowJobTellsNothingTheListingDoesNot(Recorded slurm) {
    // why the backend never asks scontrol: for jobs 23 (exit 3) and 24 (kill -9), its state,
    // reason and exit code read as squeue's row for the same jobs (52 and 53) do
    assertThat(fromScontrol(slurm, "scontrol-three"))
        .isEqualTo(new JobStatus.Exited(3, "FAILED", "NonZeroExitCode"))
        .isEqualTo(status(slurm, "squeue-mixed", "52"));
    assertThat(fromScontrol(slurm, "scontrol-k9"))
        .isEqualTo(new JobStatus.Failed(-1, "FAILED", "killed by signal 9 (" + slurm.killedBy9() + ")"))
        .isEqualTo(status(slurm, "squeue-mixed", "53"));
    // and for an unknown id it says what squeue says
    var unknown = slurm.get("scontrol-unknown");
    assertThat(unknown.exitCode()).isEqualTo(1);
    assertThat(SlurmListings.classifyQueueFailure(unknown.stderr()))
        .isEqualTo(QueueError.NO_SUCH_JOB);
    assertThat(SlurmListings.isUnavailable(unknown.stderr())).isFalse();
  }

  /** squeue's row made from {@code scontrol show job -o}'s fields. */
  private static JobStatus fromScontrol(Recorded slurm, String recording) {
    var r = slurm.get(recording);
    assertThat(r.exitCode()).isZero();
    var fields = new java.util.HashMap<String, String>();
    for (var word : r.stdout().strip().split(" ")) {
      var eq = word.indexOf('=');
      if (eq > 0) {
        fields.put(word.substring(0, eq), word.substring(eq + 1));
      }
    }
    return SlurmStates.fromQueue(new QueueRow(fields.get("JobId"), fields.get("JobState"),
        fields.get("Reason"), ExitCode.parse(fields.get("ExitCode"))), null);
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void anUnknownAccountIsAcceptedWhereThereIsNoAccounting(Recorded slurm) {
    // the testbed has no slurmdbd: sbatch --account=nosuchacct takes the job (id 31 in 22.05)
    var r = slurm.get("sbatch-bad-account");
    assertThat(r.exitCode()).isZero();
    assertThat(SlurmListings.parseSbatchId(r.stdout())).isEqualTo(slurm.id("31"));
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void readsTheJobIdSbatchPrints(Recorded slurm) {
    assertThat(SlurmListings.parseSbatchId(slurm.get("sbatch-ok").stdout()))
        .isEqualTo(slurm.id("29"));
    assertThat(SlurmListings.parseSbatchId("1234;cluster2\n")).isEqualTo("1234");
    assertThat(SlurmListings.parseSbatchId("")).isNull();
    assertThat(SlurmListings.parseSbatchId("Submitted batch job 12")).isNull();
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void tellsRefusedJobsFromAnUnreachableControllerAndFromATimeoutThatMayHaveSubmitted(Recorded slurm) {
    assertThat(classify(slurm, "sbatch-bad-partition")).isEqualTo(SubmitVerdict.REFUSED);
    assertThat(classify(slurm, "sbatch-too-much-mem")).isEqualTo(SubmitVerdict.REFUSED);
    assertThat(classify(slurm, "sbatch-bad-option")).isEqualTo(SubmitVerdict.REFUSED);
    assertThat(classify(slurm, "sbatch-bad-gres")).isEqualTo(SubmitVerdict.REFUSED);
    assertThat(classify(slurm, "sbatch-ctld-down")).isEqualTo(SubmitVerdict.NOT_NOW);
    // slurmctld frozen: sbatch gives up, slurmctld creates the job when it resumes
    assertThat(classify(slurm, "sbatch-ctld-frozen")).isEqualTo(SubmitVerdict.IN_DOUBT);
    assertThat(SlurmListings.classifySubmit(1, "sbatch: error: QOSMaxSubmitJobPerUserLimit\n"
        + "sbatch: error: Batch job submission failed: Job violates accounting/QOS policy"))
        .isEqualTo(SubmitVerdict.NOT_NOW);
    assertThat(SlurmListings.classifySubmit(1, "sbatch: error: slurm_receive_msg: Zero Bytes "
        + "were transmitted or received")).isEqualTo(SubmitVerdict.IN_DOUBT);
    assertThat(SlurmListings.classifySubmit(137, "")).as("killed by a signal")
        .isEqualTo(SubmitVerdict.IN_DOUBT);
    assertThat(SlurmListings.classifySubmit(127, "sh: 20: /opt/slurm/bin/sbatch: not found"))
        .as("no sbatch to run: nothing was sent").isEqualTo(SubmitVerdict.REFUSED);
    assertThat(SlurmListings.classifySubmit(1, "")).as("an exit without a message")
        .isEqualTo(SubmitVerdict.IN_DOUBT);
    assertThat(SlurmListings.classifySubmit(4, "cannot write /w/job.sh"))
        .isEqualTo(SubmitVerdict.NOT_NOW);
    assertThat(SlurmListings.classifySubmit(75, "an earlier sbatch of this job is still running"))
        .isEqualTo(SubmitVerdict.IN_DOUBT);
  }

  private static SubmitVerdict classify(Recorded slurm, String recording) {
    var r = slurm.get(recording);
    return SlurmListings.classifySubmit(r.exitCode(), r.stderr());
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void holdAndReleaseIgnoreJobsThatAreGoneOrDone(Recorded slurm) {
    assertThat(SlurmListings.onlyGoneJobs(slurm.get("scontrol-hold-unknown").stderr())).isTrue();
    assertThat(SlurmListings.onlyGoneJobs(slurm.get("scontrol-hold-mixed").stderr())).isTrue();
    assertThat(SlurmListings.onlyGoneJobs(slurm.get("scontrol-release-unknown").stderr()))
        .isTrue();
    assertThat(SlurmListings.onlyGoneJobs("Job is no longer pending execution for job 5\n"))
        .isFalse();
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void holdingARunningJobAndReleasingHeldOnesSucceedSilently(Recorded slurm) {
    for (var name : new String[] {"scontrol-hold-running", "scontrol-release"}) {
      var r = slurm.get(name);
      assertThat(r.exitCode()).as(name).isZero();
      assertThat(r.stderr()).as(name).isEmpty();
      assertThat(SlurmListings.onlyGoneJobs(r.stderr())).as(name).isTrue();
      assertThat(SlurmListings.isUnavailable(r.stderr())).as(name).isFalse();
    }
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void scancelIsSilentForUnknownJobs(Recorded slurm) {
    assertThat(slurm.get("scancel-unknown").exitCode()).isZero();
    assertThat(slurm.get("scancel-unknown").stderr()).isEmpty();
    assertThat(slurm.get("scancel-batch").exitCode()).isZero();
    assertThat(slurm.get("scancel-ctld-down").exitCode()).isEqualTo(8);
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void knowsWhenThereIsNoAccounting(Recorded slurm) {
    var r = slurm.get("sacct-disabled");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(SlurmListings.accountingDisabled(r.stderr())).isTrue();
    assertThat(SlurmListings.accountingDisabled(slurm.get("squeue-ctld-down").stderr()))
        .as("a down controller is not a cluster without accounting").isFalse();
    assertThat(SlurmListings.parseSacct(r.stdout())).isEmpty();
  }

  @Test
  void readsSacctLinesAsDocumented() {
    // not recorded (the testbed has no slurmdbd): the format of sacct.1 and src/sacct/print.c
    var rows = SlurmListings.parseSacct("""
        101|COMPLETED|0:0|None
        102|FAILED|3:0|NonZeroExitCode
        103|CANCELLED by 1001|0:15|None
        104|TIMEOUT|0:0|TimeLimit
        104.batch|CANCELLED|0:15|
        """);

    assertThat(rows).containsOnlyKeys("101", "102", "103", "104");
    assertThat(rows.get("103").state()).isEqualTo("CANCELLED");
    assertThat(SlurmStates.fromFolder(Markers.MISSING, rows.get("102"), "/d"))
        .isEqualTo(new JobStatus.Exited(3, "FAILED", "NonZeroExitCode"));
    assertThat(SlurmStates.fromFolder(Markers.MISSING, rows.get("104"), "/d"))
        .isInstanceOf(JobStatus.Failed.class);
  }

  @ParameterizedTest
  @EnumSource(Recorded.class)
  void lookupFindsJobsByName(Recorded slurm) {
    assertThat(SlurmListings.parseLookup(slurm.get("squeue-name").stdout()))
        .containsEntry("rec-ok", slurm.id("22")).containsEntry("rec-three", slurm.id("23"))
        .hasSize(2);
    assertThat(SlurmListings.parseLookup(slurm.get("squeue-name-none").stdout())).isEmpty();
  }

  @Test
  void parsesExitCodesInBothNotations() {
    assertThat(ExitCode.parse("768")).isEqualTo(new ExitCode(3, 0));
    assertThat(ExitCode.parse("1792")).isEqualTo(new ExitCode(7, 0));
    assertThat(ExitCode.parse("9")).isEqualTo(new ExitCode(0, 9));
    assertThat(ExitCode.parse("15")).isEqualTo(new ExitCode(0, 15));
    assertThat(ExitCode.parse("3:0")).isEqualTo(new ExitCode(3, 0));
    assertThat(ExitCode.parse("0:9")).isEqualTo(new ExitCode(0, 9));
    assertThat(ExitCode.parse("")).isNull();
    assertThat(ExitCode.parse("N/A")).isNull();
  }

  @Test
  void aListingWithoutTheExitCodeColumnStillReads() {
    // an squeue that does not know exit_code prints an error and the other columns
    var rows = SlurmListings.parseQueue("7|RUNNING|None|\n8|COMPLETED|None|\n");
    assertThat(rows.get("7")).isEqualTo(new QueueRow("7", "RUNNING", "None", null));
    assertThat(SlurmStates.fromQueue(rows.get("8"), null))
        .isEqualTo(new JobStatus.Exited(0, "COMPLETED", null));
  }

  @Test
  void ignoresBannersAndWarnings() {
    var rows = SlurmListings.parseQueue("Welcome to the cluster\n\nsqueue: error: Invalid job "
        + "format specification: x\n12|PENDING|Priority|0|\n");
    assertThat(rows).containsOnlyKeys("12");
  }

  @Test
  void jobsThatLeftSqueueAreReadFromTheirFolderOrUnknown() {
    assertThat(SlurmStates.fromFolder(new Markers(true, 3, null, false), null, "/d"))
        .isEqualTo(new JobStatus.Exited(3, "FAILED",
            "from the job's exit-code file (the job has left squeue)"));
    assertThat(SlurmStates.fromFolder(new Markers(true, 143, "TERM", true), null, "/d"))
        .isInstanceOf(JobStatus.Cancelled.class);
    assertThat(SlurmStates.fromFolder(new Markers(true, null, null, true), null, "/d"))
        .isInstanceOf(JobStatus.Cancelled.class);
    assertThat(SlurmStates.fromFolder(new Markers(true, 143, "TERM", false), null, "/d"))
        .isInstanceOf(JobStatus.Failed.class);
    assertThat(SlurmStates.fromFolder(new Markers(true, null, null, false), null, "/d"))
        .isInstanceOf(JobStatus.Unknown.class);
    assertThat(SlurmStates.fromFolder(Markers.MISSING, null, "/d"))
        .isInstanceOf(JobStatus.Unknown.class);
    assertThat(SlurmStates.fromFolder(null, null, "/d")).isInstanceOf(JobStatus.Unknown.class);
  }

  @Test
  void completingIsRunningUntilTheExitCodeIsThere() {
    var row = new QueueRow("5", "COMPLETING", "None", new ExitCode(0, 0));
    assertThat(SlurmStates.fromQueue(row, null)).isEqualTo(new JobStatus.Running("COMPLETING"));
    assertThat(SlurmStates.fromQueue(row, new Markers(true, 0, null, false)))
        .isEqualTo(new JobStatus.Exited(0, "COMPLETING", null));
    // ended by a signal: cancelled if we asked, else wait for TIMEOUT, PREEMPTED...
    assertThat(SlurmStates.fromQueue(row, new Markers(true, 143, "TERM", true)))
        .isInstanceOf(JobStatus.Cancelled.class);
    assertThat(SlurmStates.fromQueue(row, new Markers(true, 143, "TERM", false)))
        .isEqualTo(new JobStatus.Running("COMPLETING"));
    // 143 without the trap's signal file (seen under load): wait for CANCELLED or FAILED
    assertThat(SlurmStates.fromQueue(row, new Markers(true, 143, null, false)))
        .isEqualTo(new JobStatus.Running("COMPLETING"));
    assertThat(SlurmStates.fromQueue(new QueueRow("5", "FAILED", "NonZeroExitCode",
        new ExitCode(143, 0)), new Markers(true, 143, null, false)))
        .isEqualTo(new JobStatus.Exited(143, "FAILED", "NonZeroExitCode"));
  }

  @Test
  void mapsTheOtherSlurmStates() {
    assertThat(SlurmStates.fromQueue(new QueueRow("1", "OUT_OF_MEMORY", "None", null), null))
        .isEqualTo(new JobStatus.Failed(-1, "OUT_OF_MEMORY", "out of memory"));
    assertThat(SlurmStates.fromQueue(new QueueRow("1", "NODE_FAIL", "None", null), null))
        .isInstanceOf(JobStatus.Failed.class);
    assertThat(SlurmStates.fromQueue(new QueueRow("1", "PREEMPTED", "None", null), null))
        .isInstanceOf(JobStatus.Failed.class);
    assertThat(SlurmStates.fromQueue(new QueueRow("1", "SUSPENDED", "None", null), null))
        .isInstanceOf(JobStatus.Held.class);
    assertThat(SlurmStates.fromQueue(new QueueRow("1", "REQUEUED", "None", null), null))
        .isInstanceOf(JobStatus.Pending.class);
    assertThat(SlurmStates.fromQueue(new QueueRow("1", "CONFIGURING", "None", null), null))
        .isInstanceOf(JobStatus.Pending.class);
    assertThat(SlurmStates.fromQueue(new QueueRow("1", "NEW_STATE", "None", null), null))
        .isInstanceOf(JobStatus.Unknown.class);
  }

  @Test
  void readsTheScriptListings() {
    var listing = SlurmListings.parseSubmit("""
        S a.1 101
        S b.1 102;other
        E c.1 1 sbatch: error: Batch job submission failed: Invalid partition name specified
        S d.1 hello
        noise
        """);
    assertThat(listing.ids()).containsEntry("a.1", "101").containsEntry("b.1", "102");
    assertThat(listing.errors().get("c.1").exitCode()).isEqualTo(1);
    assertThat(listing.garbled()).containsKey("d.1");

    var markers = SlurmListings.parseMarkers("M 0 3 - 0 1\nM 1 - - 0 0\nM 2 143 TERM 1 1\n");
    assertThat(markers.get(0)).isEqualTo(new Markers(true, 3, null, false));
    assertThat(markers.get(1)).isEqualTo(Markers.MISSING);
    assertThat(markers.get(2)).isEqualTo(new Markers(true, 143, "TERM", true));
    assertThat(SlurmListings.parseRecorded("L 0 55\nL 1 \n")).containsOnlyKeys(0);
  }
}
