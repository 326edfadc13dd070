package org.jobyard.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
  @Test
  void parsesUnitsClocksAndSeconds() {
    assertThat(Durations.parse("1h30m")).contains(Duration.ofMinutes(90));
    assertThat(Durations.parse("500ms")).contains(Duration.ofMillis(500));
    assertThat(Durations.parse("90")).contains(Duration.ofSeconds(90));
    assertThat(Durations.parse("01:02:03")).contains(Duration.ofSeconds(3723));
    assertThat(Durations.parse("2-00:00:00")).contains(Duration.ofDays(2));
    assertThat(Durations.parse("10:30")).contains(Duration.ofMinutes(630));
  }

  @Test
  void rejectsGarbage() {
    assertThat(Durations.parse("ten minutes")).isEmpty();
    assertThat(Durations.parse("5x")).isEmpty();
    assertThat(Durations.parse("m5")).isEmpty();
    assertThat(Durations.parse("")).isEmpty();
  }

  @Test
  void roundsUpToWholeSeconds() {
    assertThat(Durations.ceilSeconds(Duration.ofMillis(1500))).isEqualTo(2);
    assertThat(Durations.ceilSeconds(Duration.ofMillis(10))).isEqualTo(1);
  }
}
