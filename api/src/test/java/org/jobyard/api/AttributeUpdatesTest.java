package org.jobyard.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** A poll's attribute updates, and how they merge into a job's attributes. */
class AttributeUpdatesTest {
  @Test
  void updatesReplaceTheirKeysAndKeepTheOthers() {
    var ref = new JobRef("j", "42", Map.of("url", "https://ce/1", "dir", "/w/j"));

    var merged = ref.withAttributes(Map.of("url", "https://ce/2", "held_since", "T"));

    assertThat(merged.attributes()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "url", "https://ce/2", "dir", "/w/j", "held_since", "T"));
    assertThat(merged.nativeId()).isEqualTo("42");
    assertThat(ref.withAttributes(Map.of("dir", "/w/j"))).isSameAs(ref);
  }

  @Test
  void everyStatusButUnknownCarriesUpdatesAndTheOldConstructorsCarryNone() {
    var updates = Map.of("left_queue_at", "T");

    assertThat(new JobStatus.Running("R").attributeUpdates()).isEmpty();
    assertThat(new JobStatus.Exited(0, "C", null).withAttributeUpdates(updates))
        .isEqualTo(new JobStatus.Exited(0, "C", null, updates));
    assertThat(new JobStatus.Held("H", "admin").withAttributeUpdates(updates)
        .attributeUpdates()).isEqualTo(updates);
    assertThat(new JobStatus.Unknown("gone").withAttributeUpdates(updates).attributeUpdates())
        .isEmpty();
  }
}
