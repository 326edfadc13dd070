package org.jobyard.engine.manager;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
  static final Duration BASE = Duration.ofSeconds(5);

  @Test
  void theWaitDoublesWithEveryFailureInARowUpToTheCap() {
    assertThat(Backoff.delay(BASE, 1, () -> 0.999_999)).isBetween(Duration.ofMillis(4_999),
        BASE);
    assertThat(Backoff.delay(BASE, 2, () -> 0.999_999)).isBetween(Duration.ofMillis(9_999),
        Duration.ofSeconds(10));
    assertThat(Backoff.delay(BASE, 4, () -> 0.999_999)).isBetween(Duration.ofMillis(39_999),
        Duration.ofSeconds(40));
    assertThat(Backoff.delay(BASE, 50, () -> 0.999_999)).isBetween(Duration.ofMillis(119_999),
        Backoff.CAP);
  }

  @Test
  void jitterSpreadsTheWaitOverItsSecondHalf() {
    assertThat(Backoff.delay(BASE, 3, () -> 0)).isEqualTo(Duration.ofSeconds(10));
    assertThat(Backoff.delay(BASE, 3, () -> 0.5)).isEqualTo(Duration.ofSeconds(15));
    for (int i = 0; i < 1000; i++) {
      assertThat(Backoff.delay(BASE, 3, Backoff.RANDOM)).isBetween(Duration.ofSeconds(10),
          Duration.ofSeconds(20));
    }
  }

  @Test
  void aBaseLongerThanTheCapIsNeverShortened() {
    var hour = Duration.ofHours(1);
    assertThat(Backoff.delay(hour, 5, () -> 0.999_999)).isBetween(hour.minusSeconds(1), hour);
  }
}
