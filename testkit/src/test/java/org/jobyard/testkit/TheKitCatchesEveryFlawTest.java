package org.jobyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import java.lang.reflect.Modifier;
import java.util.Arrays;
import org.jobyard.testkit.FlawedBackend.Flaw;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.platform.engine.TestExecutionResult;

/**
 * Each kit case can fail: a backend that is right in everything but one flaw passes the whole kit
 * without it, and fails the case meant to catch that flaw with it, saying what to fix.
 */
class TheKitCatchesEveryFlawTest {

  @AfterEach
  void noFlaw() {
    FlawedBackend.flaw = Flaw.NONE;
    HttpLikeBackendConformance.expressesOutage = true;
    FlawedBackend.answersLost = false;
  }

  @Test
  void theLostAnswerCaseCatchesAnHttpBackendThatSubmitsTwiceThroughTheFixturesOwnAnswerLoss() {
    var lost = "aSubmitWhoseAnswerIsLostRunsTheJobOnce";

    var sound = KitRun.run(selectMethod(HttpLikeBackendConformance.class, lost));
    FlawedBackend.flaw = Flaw.LOST_ANSWER_TAKEN_FOR_NOT_NOW;
    var twice = KitRun.run(selectMethod(HttpLikeBackendConformance.class, lost));

    assertThat(sound.get(lost).getStatus()).as("the lost-answer case through the fixture's "
        + "answerLoss(), against a backend that reports it in doubt: %s",
        sound.get(lost).getThrowable().orElse(null))
        .isEqualTo(TestExecutionResult.Status.SUCCESSFUL);
    assertThat(twice.get(lost).getStatus()).as("the same case against a backend that takes a "
        + "lost answer for 'not now' and so runs the job twice")
        .isEqualTo(TestExecutionResult.Status.FAILED);
    assertThat(twice.get(lost).getThrowable()).hasValueSatisfying(t -> assertThat(
        t.getMessage()).contains("ran 2 times").contains("exactly one native job per tag"));
  }

  @Test
  void aBackendThatNeedsNoTransportIsTakenDownByTheFixturesOwnOutage() {
    var outage = "anUnavailableClusterIsRetryableAndNeverFailsAJob";

    var expressed = KitRun.run(selectMethod(HttpLikeBackendConformance.class, outage));
    HttpLikeBackendConformance.expressesOutage = false;
    var transportOnly = KitRun.run(selectMethod(HttpLikeBackendConformance.class, outage));

    assertThat(expressed.get(outage).getStatus()).as("the outage case with the fixture's "
        + "unavailableBackend(): %s", expressed.get(outage).getThrowable().orElse(null))
        .isEqualTo(TestExecutionResult.Status.SUCCESSFUL);
    assertThat(transportOnly.get(outage).getStatus()).as("the outage case when only the "
        + "transport is down, which this backend does not use: it accepts the job, and the "
        + "kit must say so").isEqualTo(TestExecutionResult.Status.FAILED);
    assertThat(transportOnly.get(outage).getThrowable()).hasValueSatisfying(t -> assertThat(
        t.getMessage()).contains("never accept"));
  }

  @Test
  void aBackendWithoutFlawsPassesEveryCase() {
    var results = KitRun.run(selectClass(FlawedBackendConformance.class));

    assertThat(results).as("kit cases run").isNotEmpty();
    results.forEach((test, result) -> assertThat(result.getStatus())
        .as("%s against the backend without flaws: %s", test, result.getThrowable().orElse(null))
        .isEqualTo(TestExecutionResult.Status.SUCCESSFUL));
  }

  @ParameterizedTest
  @EnumSource(value = Flaw.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
  void theCaseMeantToCatchAFlawFailsWithAHint(Flaw flaw) {
    FlawedBackend.flaw = flaw;

    var results = KitRun.run(selectMethod(FlawedBackendConformance.class, flaw.caughtBy));

    assertThat(results).as("the kit case %s", flaw.caughtBy).containsKey(flaw.caughtBy);
    var result = results.get(flaw.caughtBy);
    assertThat(result.getStatus()).as("%s against a backend whose flaw is %s", flaw.caughtBy,
        flaw).isEqualTo(TestExecutionResult.Status.FAILED);
    assertThat(result.getThrowable()).hasValueSatisfying(t -> assertThat(t.getMessage())
        .contains(flaw.message));
  }

  @Test
  void aSuiteThatOnlyChangesTheTransportSkipsTheCasesItLeavesToAnotherSayingWhich() {
    FlawedBackend.flaw = Flaw.HOLD_IGNORED; // would fail the case if it ran here
    var hold = "holdsAJobUntilItIsReleased";
    var staging = "stagesInputsAndBringsOutputsHomeWhateverTheirNames";

    var results = KitRun.run(selectMethod(TransportOnlyConformance.class, hold),
        selectMethod(TransportOnlyConformance.class, staging));

    assertThat(results.get(hold).getStatus()).isEqualTo(TestExecutionResult.Status.ABORTED);
    assertThat(results.get(hold).getThrowable()).hasValueSatisfying(t -> assertThat(
        t.getMessage()).contains("FlawedBackendConformance, which runs this case"));
    assertThat(results.get(staging).getStatus()).as("staging moves files through the transport: "
        + "it still runs").isEqualTo(TestExecutionResult.Status.SUCCESSFUL);
  }

  @Test
  void everyKitCaseHasAFlawThatItCatches() {
    var cases = Arrays.stream(BackendConformanceTest.class.getDeclaredMethods())
        .filter(m -> Modifier.isPublic(m.getModifiers()) && m.isAnnotationPresent(Test.class))
        .map(m -> m.getName()).toList();
    var caught = Arrays.stream(Flaw.values()).map(f -> f.caughtBy).toList();

    assertThat(caught).as("a new kit case needs a flaw in FlawedBackend that only it catches")
        .containsAll(cases);
  }
}
