package org.jobyard.plugins.condor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jobyard.plugins.condor.Recorded.condor;

import org.jobyard.api.JobStatus;
import org.jobyard.plugins.condor.CondorListings.SubmitFailure;
import org.junit.jupiter.api.Test;

/** The parsers and the state mapping against recorded output of a real pool. */
class CondorListingsTest {

  @Test
  void aTerseSubmitOfThreeJobsGivesTheirIdsInQueueOrder() {
    assertThat(CondorListings.parseTerse(condor("submit-three").stdout()))
        .containsExactly("20.0", "20.1", "20.2");
  }

  @Test
  void terseRangesOfSeveralClustersExpandInOrderAndWarningsAreSkipped() {
    assertThat(CondorListings.parseTerse("Warning: something\n4.0 - 4.1\n5.0 - 5.0\n"))
        .containsExactly("4.0", "4.1", "5.0");
  }

  @Test
  void aRefusedDescriptionIsRefusedAndItsErrorLineIsTheMessage() {
    var bad = condor("submit-bad-requirements");
    assertThat(bad.exitCode()).isEqualTo(1);
    assertThat(CondorListings.classifySubmit(bad.exitCode(), bad.stderr()))
        .isEqualTo(SubmitFailure.REFUSED);
    assertThat(CondorListings.firstError(bad.stderr()))
        .startsWith("ERROR: Parse error in expression");
    var missing = condor("submit-missing-executable");
    assertThat(CondorListings.firstError(missing.stderr()))
        .isEqualTo("ERROR: Executable file /var/tmp/jobyard-condor-work/i16-probe//job.sh does "
            + "not exist");
  }

  @Test
  void aScheddTheCollectorDoesNotKnowAndAMissingToolAreNotRefusals() {
    var q = condor("q-bad-schedd");
    assertThat(CondorListings.classifySubmit(1, q.stderr())).isEqualTo(SubmitFailure.UNAVAILABLE);
    assertThat(CondorListings.classifySubmit(1,
        "ERROR: Failed to connect to local queue manager\nCEDAR:6001:Failed to connect"))
        .isEqualTo(SubmitFailure.UNAVAILABLE);
    assertThat(CondorListings.classifySubmit(127, "sh: 1: condor_submit: not found"))
        .isEqualTo(SubmitFailure.NOT_RUN);
  }

  @Test
  void condorQPrintsNothingWhenNothingMatchesAndHistoryPrintsAnEmptyArray() {
    assertThat(condor("q-none").stdout()).isEmpty();
    assertThat(CondorListings.parseAds(condor("q-none").stdout())).isEmpty();
    assertThat(CondorListings.parseAds(condor("history-none").stdout())).isEmpty();
  }

  @Test
  void outputThatIsNotJsonIsAnErrorNotAnEmptyListing() {
    assertThatThrownBy(() -> CondorListings.parseAds("-- Schedd: vm : <127.0.0.1:9618>"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("JSON array");
  }

  @Test
  void aUserHoldIsHeldAndAMissingInputIsAFailureNamingTheReasonAndCode() {
    var ads = CondorListings.parseAds(condor("q-held").stdout());
    assertThat(ads).hasSize(2);
    var user = CondorStates.of(ads.get(0));
    assertThat(user).isInstanceOf(JobStatus.Held.class);
    assertThat(((JobStatus.Held) user).reason())
        .isEqualTo("via condor_hold (by user jobyard) (HoldReasonCode 1)");
    assertThat(CondorStates.failingHold(ads.get(0))).isFalse();

    var input = CondorStates.of(ads.get(1));
    assertThat(CondorStates.failingHold(ads.get(1))).isTrue();
    assertThat(input).isInstanceOf(JobStatus.Failed.class);
    assertThat(((JobStatus.Failed) input).reason())
        .contains("Transfer input files failure", "No such file or directory",
            "(HoldReasonCode 13/2)");
  }

  @Test
  void historyGivesExitCodesSignalsAndRemovals() {
    var ads = CondorListings.parseAds(condor("history-ended").stdout());
    assertThat(ads).extracting(CondorListings.Ad::id).containsExactly("20.2", "20.1", "21.0");
    assertThat(CondorStates.of(ads.get(0)))
        .isEqualTo(new JobStatus.Failed(137, "Completed", "killed by signal 9"));
    assertThat(CondorStates.of(ads.get(1))).isEqualTo(new JobStatus.Exited(2, "Completed", null));
    assertThat(CondorStates.of(ads.get(2)))
        .isEqualTo(new JobStatus.Cancelled("Removed", "via condor_rm (by user jobyard)"));
  }

  @Test
  void aJobJobyardRemovedForAFailingHoldIsFailedNotCancelled() {
    var ad = CondorListings.parseAds(condor("history-removed-by-jobyard").stdout()).getFirst();
    assertThat(CondorStates.of(ad)).isEqualTo(new JobStatus.Failed(-1, "Removed", "test"));
  }

  @Test
  void idleRunningAndUnknownStatusesMap() {
    var idle = new CondorListings.Ad("1.0", "t", 1, null, null, null, null, null, null, null,
        null, null);
    assertThat(CondorStates.of(idle)).isInstanceOf(JobStatus.Pending.class);
    var running = new CondorListings.Ad("1.0", "t", 2, null, null, null, null, null, null, null,
        null, null);
    assertThat(CondorStates.of(running)).isInstanceOf(JobStatus.Running.class);
    var future = new CondorListings.Ad("1.0", "t", 9, null, null, null, null, null, null, null,
        null, null);
    assertThat(CondorStates.of(future)).isInstanceOf(JobStatus.Unknown.class);
  }

  @Test
  void actionsOnJobsThatAreGoneAreNotErrorsButOtherComplaintsAre() {
    assertThat(CondorListings.onlyGoneJobs(condor("rm-unknown").stderr())).isTrue();
    assertThat(CondorListings.onlyGoneJobs(condor("hold-unknown").stderr())).isTrue();
    assertThat(CondorListings.onlyGoneJobs(condor("release-unknown").stderr())).isTrue();
    assertThat(CondorListings.onlyGoneJobs("Permission denied to remove job 3.0")).isFalse();
  }

  @Test
  void theSubmitScriptReportSeparatesEachCondorSubmit() {
    var runs = CondorListings.parseSubmitScript("@@jobyard group 0 0\n|12.0 - 12.1\n"
        + "@@jobyard group 1 1\n|\n|ERROR: Parse error in expression:\n");
    assertThat(runs.get(0).ids()).containsExactly("12.0", "12.1");
    assertThat(runs.get(1).exitCode()).isEqualTo(1);
    assertThat(runs.get(1).output()).contains("ERROR: Parse error");
    assertThat(runs).doesNotContainKey(2);
  }

  @Test
  void readingTheSubmitAnswerLoadsNoJsonLibrary() throws Exception {
    // a class loader of its own, so that this JVM's earlier tests have loaded nothing in it
    var urls = java.util.Arrays.stream(System.getProperty("java.class.path")
        .split(java.io.File.pathSeparator)).map(e -> {
          try {
            return java.nio.file.Path.of(e).toUri().toURL();
          } catch (java.net.MalformedURLException ex) {
            throw new IllegalStateException(ex);
          }
        }).toArray(java.net.URL[]::new);
    try (var loader = new Fresh(urls)) {
      var listings = loader.loadClass(CondorListings.class.getName());
      var parse = listings.getDeclaredMethod("parseSubmitScript", String.class);
      parse.setAccessible(true);
      var runs = (java.util.Map<?, ?>) parse.invoke(null, "@@jobyard group 0 0\n|7.0 - 7.1\n");
      assertThat(runs).hasSize(1);
      assertThat(loader.loaded("com.fasterxml.jackson.databind.ObjectMapper"))
          .as("Jackson loaded by the submit answer's parse").isFalse();
      var ads = listings.getDeclaredMethod("parseAds", String.class);
      ads.setAccessible(true);
      ads.invoke(null, "[ ]");
      assertThat(loader.loaded("com.fasterxml.jackson.databind.ObjectMapper"))
          .as("Jackson loaded once a listing is read").isTrue();
    }
  }

  /** Loads the test class path itself (parent: the platform loader) and says what it loaded. */
  private static final class Fresh extends java.net.URLClassLoader {
    Fresh(java.net.URL[] urls) {
      super(urls, ClassLoader.getPlatformClassLoader());
    }

    boolean loaded(String name) {
      return findLoadedClass(name) != null;
    }
  }
}
