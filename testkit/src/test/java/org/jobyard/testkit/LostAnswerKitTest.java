package org.jobyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The kit's lost-answer case fails a backend that resubmits a job whose answer it lost (the
 * built-in backends pass it against their real clusters: LocalBackendConformanceTest,
 * SlurmConformanceTest, SlurmOverSshConformanceTest).
 */
class LostAnswerKitTest {

  private static TestExecutionResult runLostAnswerCase(Class<?> conformance) {
    var results = new ArrayList<TestExecutionResult>();
    var request = LauncherDiscoveryRequestBuilder.request().selectors(selectMethod(conformance,
        "aSubmitWhoseAnswerIsLostRunsTheJobOnce")).build();
    LauncherFactory.create().execute(request, new TestExecutionListener() {
      @Override
      public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (id.isTest()) {
          results.add(result);
          System.out.printf("%s: %s%s%n", id.getDisplayName(), result.getStatus(), result
              .getThrowable().map(t -> "\n  " + t.getMessage()).orElse(""));
        }
      }
    });
    assertThat(results).as("kit runs of the lost-answer case").hasSize(1);
    return results.getFirst();
  }

  @Test
  void failsABackendThatResubmitsAJobWhoseSubmitAnswerWasLostAndSaysWhatToDo() {
    var result = runLostAnswerCase(ResubmittingBackendConformance.class);

    assertThat(result.getStatus()).isEqualTo(TestExecutionResult.Status.FAILED);
    assertThat(result.getThrowable().map(Throwable::getMessage).orElse(""))
        .contains("ran 2 times").contains("exactly one native job per tag")
        .contains("SubmitOutcome.InDoubt").contains("lookup, which found nothing");
  }
}
