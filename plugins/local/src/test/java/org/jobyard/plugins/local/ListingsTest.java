package org.jobyard.plugins.local;

import static org.assertj.core.api.Assertions.assertThat;

import org.jobyard.api.JobStatus;
import org.jobyard.plugins.local.Listings.PollLine;
import org.junit.jupiter.api.Test;

class ListingsTest {

  @Test
  void readsEveryJobOfAPollListingAndSkipsNoise() {
    var out = "Welcome to the login node!\r\n"
        + "P 0 0 123 0 0 0 0 \r\n"
        + "sh: 3: warning: something\n"
        + "P 1 - 124 1 0 0 0 \n"
        + "P 2 missing\n"
        + "P 3 - - 0 0 0 0 \n"
        + "P 4 143 125 0 1 0 0 \n"
        + "P 5 143 126 0 0 1 0 \n"
        + "P 6 - 127 0 0 0 0 \n"
        + "P 7 127 128 0 0 0 0 cannot change to working directory /nope\n";

    var statuses = Listings.parsePoll(out);

    assertThat(statuses).hasSize(8);
    assertThat(statuses.get(0)).isEqualTo(new JobStatus.Exited(0, "EXITED", null));
    assertThat(statuses.get(1)).isInstanceOf(JobStatus.Running.class);
    assertThat(statuses.get(2)).isInstanceOf(JobStatus.Unknown.class);
    assertThat(statuses.get(3)).isInstanceOf(JobStatus.Pending.class);
    assertThat(statuses.get(4)).isInstanceOf(JobStatus.Cancelled.class);
    assertThat(statuses.get(5)).isEqualTo(new JobStatus.Failed(143, "WALLTIME",
        "walltime exceeded"));
    assertThat(statuses.get(6)).isEqualTo(new JobStatus.Failed(-1, "LOST",
        "process ended without recording an exit code"));
    assertThat(statuses.get(7)).isEqualTo(new JobStatus.Failed(127, "NOT_STARTED",
        "cannot change to working directory /nope"));
  }

  @Test
  void aJobWaitingInTheRunnersQueueIsPendingAndListedAsQueued() {
    var listing = Listings.parsePollListing("R 1\nP 0 - - 0 0 0 1 \nP 1 - - 0 0 0 0 \n");

    assertThat(listing.runnerAlive()).isTrue();
    assertThat(listing.queued()).containsExactly(0);
    assertThat(listing.statuses().get(0)).isEqualTo(new JobStatus.Pending("QUEUED",
        "handed over to the runner, waiting for a free slot"));
    assertThat(((JobStatus.Pending) listing.statuses().get(1)).nativeState())
        .isEqualTo("STARTING");
    assertThat(Listings.parsePollListing("R 0\n").runnerAlive()).isFalse();
  }

  @Test
  void anEmptyListingAnswersForNobody() {
    assertThat(Listings.parsePoll("")).isEmpty();
    assertThat(Listings.parseSubmit("").workdir()).isNull();
    assertThat(Listings.parseLookup("\n\n")).isEmpty();
  }

  @Test
  void aGarbledExitCodeIsUnknownNotFailed() {
    assertThat(Listings.parsePoll("P 0 oops 12 0 0 0 0 \n").get(0))
        .isInstanceOf(JobStatus.Unknown.class);
  }

  @Test
  void aTruncatedLineIsIgnored() {
    assertThat(Listings.parsePoll("P 0 0 12 0 0")).isEmpty();
  }

  @Test
  void aProcessThatEndedAfterCancelIsCancelledEvenWithoutAnExitCode() {
    assertThat(Listings.status(new PollLine(null, "9", false, true, false, "")))
        .isInstanceOf(JobStatus.Cancelled.class);
  }

  @Test
  void aWalltimeKillWithoutAnExitCodeIsAWalltimeFailure() {
    assertThat(Listings.status(new PollLine(null, "9", false, false, true, "")))
        .isEqualTo(new JobStatus.Failed(-1, "WALLTIME", "walltime exceeded"));
  }

  @Test
  void aCancelledJobStillRunningIsRunning() {
    assertThat(Listings.status(new PollLine(null, "9", true, true, false, "")))
        .isInstanceOf(JobStatus.Running.class);
  }

  @Test
  void readsTheSubmitListing() {
    var listing = Listings.parseSubmit("motd\nW /home/u/.jobyard/jobs\nJ a.1 100\nE b.1 cannot "
        + "write /x/job.sh\nJ c.1 -\n");

    assertThat(listing.workdir()).isEqualTo("/home/u/.jobyard/jobs");
    assertThat(listing.pids()).containsExactly(java.util.Map.entry("a.1", "100"),
        java.util.Map.entry("c.1", "-"));
    assertThat(listing.errors()).containsEntry("b.1", "cannot write /x/job.sh");
  }

  @Test
  void readsTheLookupListing() {
    var found = Listings.parseLookup("W /w\nL 0 100 -\nL 2 101 0\n");

    assertThat(found).containsOnlyKeys(0, 2);
    assertThat(found.get(2)).isEqualTo(new Listings.Found("101", "0"));
  }
}
