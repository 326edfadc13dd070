package org.jobyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;

/** The kit tells a broken backend what is wrong with it, and passes what is right. */
class ConformanceKitTest {
  private static Map<String, TestExecutionResult> results;

  @BeforeAll
  static void runTheKitAgainstANaiveBackend() {
    results = KitRun.run(selectClass(NaiveBackendConformance.class));
  }

  private static String failureOf(String test) {
    assertThat(results).as("kit tests that ran").containsKey(test);
    var result = results.get(test);
    assertThat(result.getStatus()).as("%s against the naive backend", test)
        .isEqualTo(TestExecutionResult.Status.FAILED);
    return result.getThrowable().map(Throwable::getMessage).orElse("");
  }

  @Test
  void failsABackendThatReportsAMissingJobAsFailedAndSaysToReportUnknown() {
    assertThat(failureOf("aJobTheBackendNeverSawIsUnknownNeverFailed"))
        .contains("poll returned Failed").contains("report Unknown instead");
  }

  @Test
  void failsABackendThatJoinsArgumentsWithSpacesAndSaysToQuoteThem() {
    assertThat(failureOf("passesHostileArgumentsByteForByte"))
        .contains("quote every argument");
  }

  @Test
  void failsABackendThatLosesAnExitCodeAndHintsAtQuoting() {
    assertThat(failureOf("reportsTheJobsExitCode")).contains("must end as Exited(3)")
        .contains("without quoting").contains("got Exited[exitCode=0");
  }

  @Test
  void failsABackendThatReportsACancelledJobByItsExitCode() {
    assertThat(failureOf("cancelsARunningJob")).contains("must end as Cancelled");
  }

  @Test
  void failsABackendThatCannotFindItsJobsAfterACrash() {
    assertThat(failureOf("findsAJobByItsTagAfterACrashAndSeesItEnd"))
        .contains("lookup after a crash must find the submitted attempt by its tag");
  }

  @Test
  void failsABackendThatSucceedsThroughADeadTransport() {
    assertThat(failureOf("anUnavailableClusterIsRetryableAndNeverFailsAJob"))
        .contains("never accept");
  }

  @Test
  void passesWhatTheNaiveBackendGetsRight() {
    for (var test : new String[] {"submitsAJobAndPollsItToSuccess"}) {
      assertThat(results.get(test)).as(test).isNotNull();
      assertThat(results.get(test).getStatus()).as("%s: %s", test,
          results.get(test).getThrowable().orElse(null)).isEqualTo(
              TestExecutionResult.Status.SUCCESSFUL);
    }
  }

  @Test
  void skipsTheTestsOfUndeclaredCapabilitiesByName() {
    assertThat(results.get("endsAJobThatExceedsItsWalltimeAsFailed")).as("walltime test result")
        .isNotNull();
    assertThat(results.get("endsAJobThatExceedsItsWalltimeAsFailed").getStatus())
        .isEqualTo(TestExecutionResult.Status.ABORTED);
    assertThat(results.get("endsAJobThatExceedsItsWalltimeAsFailed").getThrowable())
        .hasValueSatisfying(t -> assertThat(t.getMessage()).contains("WALLTIME"));
  }
}
