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
  }

  @Test
  void readsEveryClockAsSlurmsTimeOptionReadsIt() {
    assertThat(Durations.parse("30:00")).contains(Duration.ofMinutes(30)); // MM:SS
    assertThat(Durations.parse("10:30")).contains(Duration.ofSeconds(630));
    assertThat(Durations.parse("90:00")).contains(Duration.ofMinutes(90));
    assertThat(Durations.parse("1:02:03")).contains(Duration.ofSeconds(3723)); // HH:MM:SS
    assertThat(Durations.parse("2-00")).contains(Duration.ofDays(2)); // D-HH
    assertThat(Durations.parse("1-12")).contains(Duration.ofHours(36));
    assertThat(Durations.parse("1-00:30")).contains(Duration.ofDays(1).plusMinutes(30));
    assertThat(Durations.parse("1-02:03:04"))
        .contains(Duration.ofDays(1).plusHours(2).plusMinutes(3).plusSeconds(4));
  }

  @Test
  void refusesClockFieldsOutOfRange() {
    assertThat(Durations.parse("10:60")).isEmpty();
    assertThat(Durations.parse("1:60:00")).isEmpty();
    assertThat(Durations.parse("1-00:00:75")).isEmpty();
    assertThat(Durations.parse("1:2:3:4")).isEmpty();
    assertThat(Durations.parse("-5")).isEmpty();
  }

  @Test
  void namesAPlainNumberAsAmbiguous() {
    assertThat(Durations.isPlainNumber(" 30 ")).isTrue();
    assertThat(Durations.isPlainNumber("30m")).isFalse();
    assertThat(Durations.isPlainNumber("30:00")).isFalse();
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
