package org.jobyard.engine.manager;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SubmitPaceTest {
  static final long SECOND = 1_000_000_000L;

  @Test
  void grantsTheRateAndNoMoreOverTime() {
    var pace = new SubmitPace(5);
    long t = System.nanoTime();
    int granted = pace.take(100, t);
    for (int step = 1; step <= 100; step++) { // ten seconds in steps of 100 ms
      granted += pace.take(100, t + step * SECOND / 10);
    }
    assertThat(granted).isBetween(50, 51);
  }

  @Test
  void aLongPauseBuildsUpOnlyASmallBurst() {
    var pace = new SubmitPace(100);
    long t = System.nanoTime();
    pace.take(1, t);
    assertThat(pace.take(1_000, t + 60 * SECOND)).isEqualTo(20);
    assertThat(pace.take(1_000, t + 60 * SECOND)).isZero();
    assertThat(pace.millisUntilNext(t + 60 * SECOND)).isBetween(1L, 10L);
  }

  @Test
  void noRateMeansNoLimit() {
    var pace = new SubmitPace(0);
    assertThat(pace.take(100_000, System.nanoTime())).isEqualTo(100_000);
    assertThat(pace.millisUntilNext(System.nanoTime())).isZero();
  }
}
