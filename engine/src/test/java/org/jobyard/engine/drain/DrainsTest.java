package org.jobyard.engine.drain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.jobyard.engine.config.ClusterConfig.Downtime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DrainsTest {
  static final Instant NOON = Instant.parse("2026-12-01T12:00:00Z");

  @TempDir
  Path dir;

  Drains at(Instant now, Map<String, List<Downtime>> windows) {
    return new Drains(dir.resolve("drained.json"), windows, Clock.fixed(now, ZoneOffset.UTC));
  }

  @Test
  void aDrainIsKeptInItsFileAndReadBackByTheNextEngine() {
    var first = at(NOON, Map.of());
    first.drain("hpc", "ops", "kernel update");
    var next = at(NOON.plusSeconds(60), Map.of());
    assertThat(next.closed("hpc")).contains("cluster 'hpc' is drained (kernel update)");
    assertThat(next.drained("hpc")).get().satisfies(d -> {
      assertThat(d.by()).isEqualTo("ops");
      assertThat(d.since()).isEqualTo(NOON);
    });
    assertThat(next.closed("other")).isEmpty();
    assertThat(next.undrain("hpc", "ops")).isTrue();
    assertThat(at(NOON, Map.of()).closed("hpc")).isEmpty();
    assertThat(next.undrain("hpc", "ops")).as("no longer drained").isFalse();
  }

  @Test
  void aDowntimeWindowClosesTheClusterFromItsStartUntilItsEnd() {
    var window = new Downtime(NOON, NOON.plusSeconds(3600));
    var windows = Map.of("hpc", List.of(window));
    assertThat(at(NOON.minusSeconds(1), windows).closed("hpc")).isEmpty();
    assertThat(at(NOON, windows).closed("hpc"))
        .contains("cluster 'hpc' is in scheduled downtime until 2026-12-01T13:00:00Z");
    assertThat(at(NOON.plusSeconds(3599), windows).closed("hpc")).isPresent();
    assertThat(at(NOON.plusSeconds(3600), windows).closed("hpc")).isEmpty();
    assertThat(at(NOON.plusSeconds(3600), windows).upcoming("hpc")).isEmpty();
    assertThat(at(NOON.minusSeconds(1), windows).upcoming("hpc")).containsExactly(window);
  }

  @Test
  void aDamagedFileStopsTheStartWithItsPathAndWhatToDo() throws Exception {
    Files.writeString(dir.resolve("drained.json"), "{not json");
    assertThatThrownBy(() -> at(NOON, Map.of())).hasMessageContaining("drained.json")
        .hasMessageContaining("fix or remove the file");
  }

  @Test
  void aDrainThatCannotBeWrittenIsRefusedAndChangesNothing() throws Exception {
    var drains = new Drains(dir.resolve("file-not-folder").resolve("drained.json"), Map.of(),
        Clock.systemUTC());
    Files.writeString(dir.resolve("file-not-folder"), "a file where the folder should be");
    assertThatThrownBy(() -> drains.drain("hpc", "ops", null))
        .hasMessageContaining("cannot record the drained clusters");
    assertThat(drains.closed("hpc")).isEmpty();
  }
}
