package org.jobyard.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JobStateTest {
  @Test
  void terminalStatesAreTheEnds() {
    assertThat(JobState.SUCCEEDED.isTerminal()).isTrue();
    assertThat(JobState.FAILED.isTerminal()).isTrue();
    assertThat(JobState.CANCELLED.isTerminal()).isTrue();
    assertThat(JobState.RUNNING.isTerminal()).isFalse();
  }

  @Test
  void statesNeverGoBackwards() {
    assertThat(JobState.RUNNING.canMoveTo(JobState.PENDING)).isFalse();
    assertThat(JobState.SUCCEEDED.canMoveTo(JobState.RUNNING)).isFalse();
    assertThat(JobState.SUCCEEDED.canMoveTo(JobState.QUEUED)).as("restart").isTrue();
    assertThat(JobState.CANCELLING.canMoveTo(JobState.RUNNING)).isFalse();
    assertThat(JobState.QUEUED.canMoveTo(JobState.SUBMITTING)).isTrue();
    assertThat(JobState.FAILED.canMoveTo(JobState.QUEUED)).isTrue();
    assertThat(JobState.FAILED.canMoveTo(JobState.PENDING)).as("resumed on its cluster").isTrue();
    assertThat(JobState.SUCCEEDED.canMoveTo(JobState.PENDING)).isFalse();
    assertThat(JobState.CANCELLED.canMoveTo(JobState.PENDING)).isFalse();
  }
}
