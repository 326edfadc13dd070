package org.jobyard.engine.retry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jobyard.api.JobSpec;
import org.junit.jupiter.api.Test;

class RetryRulesTest {
  static JobSpec withRule(JobSpec.RetryRule rule) {
    var s = JobSpec.of("j", "x");
    return new JobSpec(s.name(), null, null, s.steps(), Map.of(), null, null, null, null, null,
        null, List.of(), List.of(), List.of(), 50, Map.of(), List.of(), rule, List.of());
  }

  @Test
  void theDelayGrowsByTheBackoffWithEachRetryUpToADay() {
    var spec = withRule(new JobSpec.RetryRule(List.of(), false, false, Duration.ofSeconds(30), 2));
    assertThat(RetryRules.delay(spec, 1)).isEqualTo(Duration.ofSeconds(30));
    assertThat(RetryRules.delay(spec, 2)).isEqualTo(Duration.ofSeconds(60));
    assertThat(RetryRules.delay(spec, 4)).isEqualTo(Duration.ofSeconds(240));
    assertThat(RetryRules.delay(spec, 40)).isEqualTo(RetryRules.MAX_DELAY);
  }

  @Test
  void aJobWithoutADelayRetriesAtOnce() {
    assertThat(RetryRules.delay(withRule(null), 3)).isZero();
    assertThat(RetryRules.delay(withRule(new JobSpec.RetryRule(List.of(3), false, true)), 1))
        .isZero();
  }
}
