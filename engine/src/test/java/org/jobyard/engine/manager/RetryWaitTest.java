package org.jobyard.engine.manager;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class RetryWaitTest {

  @Test
  void aRetryTimeBetweenMillisecondsRoundsUpSoTheDelayIsNeverCutShort() {
    var t = Instant.ofEpochSecond(100, 1_500_000); // 100.0015 s
    assertThat(RetryWait.notBefore(t)).isEqualTo(100_002L);
    assertThat(Instant.ofEpochMilli(RetryWait.notBefore(t))).isAfterOrEqualTo(t);
  }

  @Test
  void aRetryTimeOnAMillisecondStaysOnIt() {
    assertThat(RetryWait.notBefore(Instant.ofEpochMilli(100_002L))).isEqualTo(100_002L);
  }
}
