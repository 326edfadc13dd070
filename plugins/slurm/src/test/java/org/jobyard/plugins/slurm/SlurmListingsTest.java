package org.jobyard.plugins.slurm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jobyard.plugins.slurm.Recorded.slurm2205;

import org.jobyard.api.JobStatus;
import org.jobyard.plugins.slurm.SlurmListings.ExitCode;
import org.jobyard.plugins.slurm.SlurmListings.Markers;
import org.jobyard.plugins.slurm.SlurmListings.QueueError;
import org.jobyard.plugins.slurm.SlurmListings.QueueRow;
import org.jobyard.toolkit.SubmitVerdict;
import org.junit.jupiter.api.Test;

/** The parsers and the state mapping against outputs recorded from Slurm 22.05.8. */
class SlurmListingsTest {

  private static JobStatus status(String recording, String id) {
    var row = SlurmListings.parseQueue(slurm2205(recording).stdout()).get(id);
    return SlurmStates.fromQueue(row, null);
  }

  @Test
  void readsEveryStateOfAMixedListing() {
    var rows = SlurmListings.parseQueue(slurm2205("squeue-mixed").stdout());

    assertThat(rows).containsOnlyKeys("51", "52", "53", "54", "55", "56", "57");
    assertThat(rows.get("52")).isEqualTo(new QueueRow("52", "FAILED", "NonZeroExitCode",
        new ExitCode(3, 0)));
    assertThat(status("squeue-mixed", "51")).isEqualTo(new JobStatus.Exited(0, "COMPLETED", null));
    assertThat(status("squeue-mixed", "52"))
        .isEqualTo(new JobStatus.Exited(3, "FAILED", "NonZeroExitCode"));
    assertThat(status("squeue-mixed", "53")).isEqualTo(new JobStatus.Failed(-1, "FAILED",
        "killed by signal 9 (JobLaunchFailure)"));
    assertThat(status("squeue-mixed", "54")).isEqualTo(new JobStatus.Running("RUNNING"));
    assertThat(status("squeue-mixed", "55")).isEqualTo(new JobStatus.Pending("PENDING",
        "Resources"));
    assertThat(status("squeue-mixed", "57")).isEqualTo(new JobStatus.Held("PENDING",
        "JobHeldUser"));
  }

  @Test
  void theExitCodeFileWinsOverSqueue() {
    var row = SlurmListings.parseQueue(slurm2205("squeue-mixed").stdout()).get("52");
    var markers = new Markers(true, 7, null, false);

    assertThat(SlurmStates.fromQueue(row, markers))
        .isEqualTo(new JobStatus.Exited(7, "FAILED", "NonZeroExitCode"));
  }

  @Test
  void heldJobsAreHeldWhetherUserOrAdminHeldThem() {
    assertThat(status("squeue-after-hold", "56")).isEqualTo(new JobStatus.Held("PENDING",
        "JobHeldAdmin"));
    assertThat(status("squeue-after-hold", "57")).isEqualTo(new JobStatus.Held("PENDING",
        "JobHeldUser"));
    // scontrol hold on a running job succeeds and only changes its reason
    assertThat(status("squeue-after-hold", "54")).isEqualTo(new JobStatus.Running("RUNNING"));
  }

  @Test
  void cancelledJobsAreCancelledWhateverTheirExitCode() {
    assertThat(status("squeue-cancelled", "54")).isEqualTo(new JobStatus.Cancelled("CANCELLED",
        "JobHeldAdmin"));
    assertThat(status("squeue-cancelled", "55")).isEqualTo(new JobStatus.Cancelled("CANCELLED",
        "Resources"));
    assertThat(status("squeue-cancelled", "57")).isEqualTo(new JobStatus.Exited(0, "COMPLETED",
        null));
  }

  @Test
  void aTimeoutIsAFailureForWalltime() {
    assertThat(status("squeue-timeout", "42")).isEqualTo(new JobStatus.Failed(0, "TIMEOUT",
        "walltime exceeded"));
  }

  @Test
  void oneUnknownIdIsAnEmptyListingNotAnOutage() {
    var one = slurm2205("squeue-one-unknown");
    assertThat(one.exitCode()).isEqualTo(1);
    assertThat(SlurmListings.classifyQueueFailure(one.stderr())).isEqualTo(QueueError.NO_SUCH_JOB);
    assertThat(SlurmListings.parseQueue(one.stdout())).isEmpty();

    var two = slurm2205("squeue-empty-all-unknown");
    assertThat(two.exitCode()).isZero();
    assertThat(SlurmListings.parseQueue(two.stdout())).isEmpty();

    assertThat(SlurmListings.parseQueue(slurm2205("squeue-known-and-unknown").stdout()))
        .containsOnlyKeys("51");
  }

  @Test
  void aDownControllerIsUnavailable() {
    for (var name : new String[] {"squeue-ctld-down", "squeue-one-ctld-down",
        "squeue-name-ctld-down"}) {
      var r = slurm2205(name);
      assertThat(r.exitCode()).isEqualTo(1);
      assertThat(SlurmListings.classifyQueueFailure(r.stderr())).isEqualTo(QueueError.UNAVAILABLE);
      assertThat(SlurmListings.isUnavailable(r.stderr())).isTrue();
    }
    assertThat(SlurmListings.isUnavailable(slurm2205("scancel-ctld-down").stderr())).isTrue();
    // 22.05's scontrol hold says "Unexpected message received" when slurmctld is down
    assertThat(SlurmListings.isUnavailable(slurm2205("scontrol-hold-ctld-down").stderr()))
        .isTrue();
    assertThat(SlurmListings.onlyGoneJobs(slurm2205("scontrol-hold-ctld-down").stderr()))
        .isFalse();
  }

  @Test
  void squeueAskedAboutOneKnownJobListsJustThatJob() {
    var one = slurm2205("squeue-one-known");
    assertThat(one.exitCode()).isZero();
    assertThat(SlurmListings.parseQueue(one.stdout())).containsOnlyKeys("52");
    assertThat(status("squeue-one-known", "52"))
        .isEqualTo(new JobStatus.Exited(3, "FAILED", "NonZeroExitCode"));
  }

  @Test
  void scontrolShowJobTellsNothingTheListingDoesNot() {
    // why the backend never asks scontrol: for jobs 23 (exit 3) and 24 (kill -9), its state,
    // reason and exit code read as squeue's row for the same jobs (52 and 53) do
    assertThat(fromScontrol("scontrol-three"))
        .isEqualTo(new JobStatus.Exited(3, "FAILED", "NonZeroExitCode"))
        .isEqualTo(status("squeue-mixed", "52"));
    assertThat(fromScontrol("scontrol-k9"))
        .isEqualTo(new JobStatus.Failed(-1, "FAILED", "killed by signal 9 (JobLaunchFailure)"))
        .isEqualTo(status("squeue-mixed", "53"));
    // and for an unknown id it says what squeue says
    var unknown = slurm2205("scontrol-unknown");
    assertThat(unknown.exitCode()).isEqualTo(1);
    assertThat(SlurmListings.classifyQueueFailure(unknown.stderr()))
        .isEqualTo(QueueError.NO_SUCH_JOB);
    assertThat(SlurmListings.isUnavailable(unknown.stderr())).isFalse();
  }

  /** squeue's row made from {@code scontrol show job -o}'s fields. */
  private static JobStatus fromScontrol(String recording) {
    var r = slurm2205(recording);
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

  @Test
  void anUnknownAccountIsAcceptedWhereThereIsNoAccounting() {
    // the testbed has no slurmdbd: sbatch --account=nosuchacct takes the job (id 31)
    var r = slurm2205("sbatch-bad-account");
    assertThat(r.exitCode()).isZero();
    assertThat(SlurmListings.parseSbatchId(r.stdout())).isEqualTo("31");
  }

  @Test
  void readsTheJobIdSbatchPrints() {
    assertThat(SlurmListings.parseSbatchId(slurm2205("sbatch-ok").stdout())).isEqualTo("29");
    assertThat(SlurmListings.parseSbatchId("1234;cluster2\n")).isEqualTo("1234");
    assertThat(SlurmListings.parseSbatchId("")).isNull();
    assertThat(SlurmListings.parseSbatchId("Submitted batch job 12")).isNull();
  }

  @Test
  void tellsRefusedJobsFromAnUnreachableControllerAndFromATimeoutThatMayHaveSubmitted() {
    assertThat(classify("sbatch-bad-partition")).isEqualTo(SubmitVerdict.REFUSED);
    assertThat(classify("sbatch-too-much-mem")).isEqualTo(SubmitVerdict.REFUSED);
    assertThat(classify("sbatch-bad-option")).isEqualTo(SubmitVerdict.REFUSED);
    assertThat(classify("sbatch-bad-gres")).isEqualTo(SubmitVerdict.REFUSED);
    assertThat(classify("sbatch-ctld-down")).isEqualTo(SubmitVerdict.NOT_NOW);
    // slurmctld frozen: sbatch gives up, slurmctld creates the job when it resumes
    assertThat(classify("sbatch-ctld-frozen")).isEqualTo(SubmitVerdict.IN_DOUBT);
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

  private static SubmitVerdict classify(String recording) {
    var r = slurm2205(recording);
    return SlurmListings.classifySubmit(r.exitCode(), r.stderr());
  }

  @Test
  void holdAndReleaseIgnoreJobsThatAreGoneOrDone() {
    assertThat(SlurmListings.onlyGoneJobs(slurm2205("scontrol-hold-unknown").stderr())).isTrue();
    assertThat(SlurmListings.onlyGoneJobs(slurm2205("scontrol-hold-mixed").stderr())).isTrue();
    assertThat(SlurmListings.onlyGoneJobs(slurm2205("scontrol-release-unknown").stderr()))
        .isTrue();
    assertThat(SlurmListings.onlyGoneJobs("Job is no longer pending execution for job 5\n"))
        .isFalse();
  }

  @Test
  void holdingARunningJobAndReleasingHeldOnesSucceedSilently() {
    for (var name : new String[] {"scontrol-hold-running", "scontrol-release"}) {
      var r = slurm2205(name);
      assertThat(r.exitCode()).as(name).isZero();
      assertThat(r.stderr()).as(name).isEmpty();
      assertThat(SlurmListings.onlyGoneJobs(r.stderr())).as(name).isTrue();
      assertThat(SlurmListings.isUnavailable(r.stderr())).as(name).isFalse();
    }
  }

  @Test
  void scancelIsSilentForUnknownJobs() {
    assertThat(slurm2205("scancel-unknown").exitCode()).isZero();
    assertThat(slurm2205("scancel-unknown").stderr()).isEmpty();
    assertThat(slurm2205("scancel-batch").exitCode()).isZero();
    assertThat(slurm2205("scancel-ctld-down").exitCode()).isEqualTo(8);
  }

  @Test
  void knowsWhenThereIsNoAccounting() {
    var r = slurm2205("sacct-disabled");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(SlurmListings.accountingDisabled(r.stderr())).isTrue();
    assertThat(SlurmListings.accountingDisabled(slurm2205("squeue-ctld-down").stderr()))
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

  @Test
  void lookupFindsJobsByName() {
    assertThat(SlurmListings.parseLookup(slurm2205("squeue-name").stdout()))
        .containsEntry("rec-ok", "22").containsEntry("rec-three", "23").hasSize(2);
    assertThat(SlurmListings.parseLookup(slurm2205("squeue-name-none").stdout())).isEmpty();
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
