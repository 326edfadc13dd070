package org.jobyard.engine.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/** Walltime clocks and memory sizes read as the batch systems read them, for any value. */
class ResourceUnitsPropertiesTest {
  @Property(tries = 300, seed = "2020")
  void everySlurmDayClockMeansItsDaysHoursMinutesAndSeconds(@ForAll @IntRange(max = 3000) int d,
      @ForAll @IntRange(min = 1, max = 23) int h, @ForAll @IntRange(max = 59) int m,
      @ForAll @IntRange(max = 59) int s) throws Exception {
    var expected = Duration.ofDays(d).plusHours(h).plusMinutes(m).plusSeconds(s);
    assertThat(walltime("%d-%02d:%02d:%02d".formatted(d, h, m, s))).isEqualTo(expected);
    assertThat(walltime("%d-%d:%02d".formatted(d, h, m)))
        .isEqualTo(Duration.ofDays(d).plusHours(h).plusMinutes(m));
    assertThat(walltime("%d-%d".formatted(d, h))).isEqualTo(Duration.ofDays(d).plusHours(h));
  }

  @Property(tries = 300, seed = "2020")
  void twoFieldsAreMinutesAndSecondsAndThreeAddHours(@ForAll @IntRange(max = 5000) int a,
      @ForAll @IntRange(max = 59) int b, @ForAll @IntRange(min = 1, max = 59) int c)
      throws Exception {
    assertThat(walltime(a + ":" + b + ":" + c))
        .isEqualTo(Duration.ofHours(a).plusMinutes(b).plusSeconds(c));
    assertThat(walltime(a + ":" + "%02d".formatted(c)))
        .isEqualTo(Duration.ofMinutes(a).plusSeconds(c));
  }

  @Property(tries = 300, seed = "2020")
  void binaryAndDecimalSizesRoundUpToWholeMebibytes(
      @ForAll @LongRange(min = 1, max = 1_000_000) long n) {
    assertThat(JobFileReader.memoryMb(n + "M")).isEqualTo(n);
    assertThat(JobFileReader.memoryMb(n + "MiB")).isEqualTo(n);
    assertThat(JobFileReader.memoryMb(n + "G")).isEqualTo(n * 1024);
    assertThat(JobFileReader.memoryMb(n + "MB")).isEqualTo((n * 1_000_000 + (1 << 20) - 1) >> 20);
    assertThat(JobFileReader.memoryMb(n + ".5G")).isEqualTo(n * 1024 + 512);
  }

  private static Duration walltime(String text) throws JobFileException {
    return JobFileReader.parse("f", "{name: a, executable: x, resources: {walltime: '" + text
        + "'}}", false).getFirst().resources().walltime();
  }
}
