package org.jobyard.toolkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobStatus;
import org.junit.jupiter.api.Test;

class StatusChainTest {
  private final JobRef running = new JobRef("a", "1", Map.of());
  private final JobRef ended = new JobRef("b", "2", Map.of());
  private final JobRef gone = new JobRef("c", "3", Map.of());
  private final List<List<String>> asked = new ArrayList<>();

  private StatusChain.Source source(Map<String, JobStatus> knows) {
    return open -> {
      asked.add(open.stream().map(JobRef::jobId).toList());
      return knows;
    };
  }

  @Test
  void eachSourceIsAskedOnceAndOnlyAboutTheJobsTheOnesBeforeItLeftOpen() throws Exception {
    var chain = StatusChain.of(
        source(Map.of("a", new JobStatus.Running("R"), "b", new JobStatus.Unknown("gone"))),
        source(Map.of("b", new JobStatus.Exited(3, "DONE", null))),
        source(Map.of()));
    var saidUnknown = StatusChain.of(source(Map.of("c", new JobStatus.Unknown("no such id"))),
        source(Map.of()));

    var statuses = chain.poll(List.of(running, ended, gone));

    assertThat(asked).containsExactly(List.of("a", "b", "c"), List.of("b", "c"), List.of("c"));
    assertThat(statuses.get("a")).isEqualTo(new JobStatus.Running("R"));
    assertThat(statuses.get("b")).as("an Unknown from the listing does not settle a job: the "
        + "folder after it does").isEqualTo(new JobStatus.Exited(3, "DONE", null));
    assertThat(statuses.get("c")).isInstanceOfSatisfying(JobStatus.Unknown.class,
        u -> assertThat(u.reason()).contains("native job 3"));
    assertThat(saidUnknown.poll(List.of(gone)).get("c")).as("the reason of the last source "
        + "that said Unknown is kept").isEqualTo(new JobStatus.Unknown("no such id"));
  }

  @Test
  void sourcesAfterTheOneThatSettledEveryJobAreNotAsked() throws Exception {
    var chain = StatusChain.of(source(Map.of("a", new JobStatus.Running("R"))),
        source(Map.of("a", new JobStatus.Exited(0, "DONE", null))));

    var statuses = chain.poll(List.of(running));

    assertThat(asked).containsExactly(List.of("a"));
    assertThat(statuses).containsExactly(Map.entry("a", new JobStatus.Running("R")));
  }
}
