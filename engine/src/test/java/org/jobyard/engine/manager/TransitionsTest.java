package org.jobyard.engine.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jobyard.api.JobState.CANCELLED;
import static org.jobyard.api.JobState.CANCELLING;
import static org.jobyard.api.JobState.FAILED;
import static org.jobyard.api.JobState.PAUSED;
import static org.jobyard.api.JobState.PENDING;
import static org.jobyard.api.JobState.QUEUED;
import static org.jobyard.api.JobState.RUNNING;
import static org.jobyard.api.JobState.SUBMITTING;
import static org.jobyard.api.JobState.SUCCEEDED;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.jobyard.api.JobState;
import org.jobyard.engine.manager.Transitions.Effect;
import org.jobyard.engine.manager.Transitions.Event;
import org.junit.jupiter.api.Test;

/** The transition table, pair by pair. */
class TransitionsTest {

  /**
   * Every (event, state) pair: the new state, or {@code null} where the move is forbidden. Written
   * out in full so that a change to the table shows here as a change to a line.
   */
  static final Map<Event, JobState[]> EXPECTED = new EnumMap<>(Event.class);

  static {
    // columns: QUEUED, SUBMITTING, PENDING, RUNNING, PAUSED, CANCELLING, SUCCEEDED, FAILED, CANCELLED
    expect(Event.SUBMIT_INTENT, SUBMITTING, null, null, null, null, null, null, null, null);
    expect(Event.ACCEPTED, null, PENDING, null, null, null, null, null, null, null);
    expect(Event.SEEN_PENDING, null, PENDING, PENDING, null, PENDING, null, null, null, null);
    expect(Event.SEEN_RUNNING, null, RUNNING, RUNNING, RUNNING, RUNNING, null, null, null, null);
    expect(Event.SEEN_HELD, null, null, PAUSED, PAUSED, PAUSED, null, null, null, null);
    expect(Event.SUCCEEDED, null, SUCCEEDED, SUCCEEDED, SUCCEEDED, SUCCEEDED, SUCCEEDED, null,
        null, null);
    expect(Event.FAILED, null, FAILED, FAILED, FAILED, FAILED, FAILED, null, null, null);
    expect(Event.NEW_ATTEMPT, null, QUEUED, QUEUED, QUEUED, QUEUED, null, null, null, null);
    expect(Event.CANCEL_REQUESTED, null, CANCELLING, CANCELLING, CANCELLING, CANCELLING,
        CANCELLING, null, null, null);
    expect(Event.CANCELLED, CANCELLED, CANCELLED, CANCELLED, CANCELLED, CANCELLED, CANCELLED, null,
        null, null);
    expect(Event.PAUSED_BY_USER, PAUSED, null, PAUSED, PAUSED, PAUSED, null, null, null, null);
    expect(Event.RESUMED, null, null, QUEUED, QUEUED, QUEUED, null, null, null, null);
    expect(Event.RESTARTED, null, null, null, null, null, null, QUEUED, QUEUED, QUEUED);
    expect(Event.RESUMED_ON_CLUSTER, null, null, null, null, null, null, null, PENDING, null);
  }

  static void expect(Event event, JobState... byState) {
    assertThat(byState).hasSize(JobState.values().length);
    EXPECTED.put(event, byState);
  }

  @Test
  void everyPairOfStateAndEventHasTheExpectedOutcome() {
    assertThat(EXPECTED.keySet()).containsExactlyInAnyOrder(Event.values());
    var wrong = new ArrayList<String>();
    for (var event : Event.values()) {
      for (var state : JobState.values()) {
        var expected = EXPECTED.get(event)[state.ordinal()];
        var actual = Transitions.next(state, event).map(Transitions.Outcome::state).orElse(null);
        if (expected != actual) {
          wrong.add(event + " in " + state + ": " + actual + ", expected " + expected);
        }
        assertThat(Transitions.allows(state, event)).isEqualTo(expected != null);
      }
    }
    assertThat(wrong).isEmpty();
  }

  @Test
  void everyAllowedMoveKeepsThePromiseUsersAreGiven() {
    for (var event : Event.values()) {
      for (var state : JobState.values()) {
        Transitions.next(state, event).ifPresent(o -> assertThat(state.canMoveTo(o.state()))
            .as("%s in %s -> %s", event, state, o.state()).isTrue());
      }
    }
  }

  @Test
  void aFinishedJobMovesOnlyWhenTheUserRestartsIt() {
    for (var state : List.of(SUCCEEDED, FAILED, CANCELLED)) {
      for (var event : Event.values()) {
        assertThat(Transitions.allows(state, event)).as("%s in %s", event, state)
            .isEqualTo(event == Event.RESTARTED
                || event == Event.RESUMED_ON_CLUSTER && state == FAILED);
      }
    }
  }

  @Test
  void exactlyTheEndingEventsEndTheJobAndFreeItsPlace() {
    for (var event : Event.values()) {
      for (var state : JobState.values()) {
        Transitions.next(state, event).ifPresent(o -> {
          assertThat(o.effects().contains(Effect.END)).as("%s in %s ends the job", event, state)
              .isEqualTo(o.state().isTerminal());
          if (o.state().isTerminal() || o.state() == QUEUED && event != Event.RESTARTED
              && event != Event.RESUMED) {
            assertThat(o.effects()).contains(Effect.LEAVE_CLUSTER);
          }
        });
      }
    }
    assertThat(Transitions.next(RUNNING, Event.CANCEL_REQUESTED).orElseThrow().effects())
        .as("a job being cancelled still holds its place").isEmpty();
    assertThat(Transitions.next(PENDING, Event.SEEN_HELD).orElseThrow().effects()).isEmpty();
  }

  @Test
  void aJobThatRanNeverShowsAsWaitingAgain() {
    assertThat(Transitions.allows(RUNNING, Event.SEEN_PENDING)).isFalse();
    assertThat(Transitions.allows(CANCELLING, Event.SEEN_RUNNING)).isFalse();
  }
}
