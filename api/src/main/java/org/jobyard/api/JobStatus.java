package org.jobyard.api;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * What a backend observed about one job in one poll. The engine maps these onto {@link JobState}.
 *
 * <p>{@link Unknown} is not failure: a job missing from one listing, or a scheduler that did not
 * answer, must be reported as {@code Unknown}; the engine then waits (with a bound) and asks again.
 * Report {@link Failed} only when the authoritative source (accounting, history, exit-code file)
 * says so. Every status keeps the batch system's own words ({@code nativeState}, {@code reason})
 * for the user.
 */
public sealed interface JobStatus {

  String nativeState();

  /**
   * Changes to the job's {@link JobRef#attributes()} that this poll observed ("left the queue at
   * T", "held since T", the job's URL): merged into the stored attributes (a key given here
   * replaces its value; keys not given keep theirs) and written in the same transaction as the
   * state this status brings, so the next calls' {@code JobRef} carries them. Empty by default;
   * ignored for {@link Unknown}.
   */
  Map<String, String> attributeUpdates();

  /** This status carrying the given attribute updates (replacing any it had). */
  JobStatus withAttributeUpdates(Map<String, String> updates);

  /** Waiting in the batch system. */
  record Pending(String nativeState, String reason, Map<String, String> attributeUpdates)
      implements JobStatus {
    public Pending {
      requireNonNull(nativeState, "nativeState is null");
      attributeUpdates =
          Map.copyOf(requireNonNull(attributeUpdates, "attributeUpdates is null"));
    }

    public Pending(String nativeState, String reason) {
      this(nativeState, reason, Map.of());
    }

    @Override
    public Pending withAttributeUpdates(Map<String, String> updates) {
      return new Pending(nativeState, reason, updates);
    }
  }

  /** Running. */
  record Running(String nativeState, Map<String, String> attributeUpdates)
      implements JobStatus {
    public Running {
      requireNonNull(nativeState, "nativeState is null");
      attributeUpdates =
          Map.copyOf(requireNonNull(attributeUpdates, "attributeUpdates is null"));
    }

    public Running(String nativeState) {
      this(nativeState, Map.of());
    }

    @Override
    public Running withAttributeUpdates(Map<String, String> updates) {
      return new Running(nativeState, updates);
    }
  }

  /** Held by the batch system or on request; release makes it pending again. */
  record Held(String nativeState, String reason, Map<String, String> attributeUpdates)
      implements JobStatus {
    public Held {
      requireNonNull(nativeState, "nativeState is null");
      attributeUpdates =
          Map.copyOf(requireNonNull(attributeUpdates, "attributeUpdates is null"));
    }

    public Held(String nativeState, String reason) {
      this(nativeState, reason, Map.of());
    }

    @Override
    public Held withAttributeUpdates(Map<String, String> updates) {
      return new Held(nativeState, reason, updates);
    }
  }

  /** Ended with a known exit code; 0 is success. */
  record Exited(int exitCode, String nativeState, String reason, Map<String, String> attributeUpdates)
      implements JobStatus {
    public Exited {
      requireNonNull(nativeState, "nativeState is null");
      attributeUpdates =
          Map.copyOf(requireNonNull(attributeUpdates, "attributeUpdates is null"));
    }

    public Exited(int exitCode, String nativeState, String reason) {
      this(exitCode, nativeState, reason, Map.of());
    }

    @Override
    public Exited withAttributeUpdates(Map<String, String> updates) {
      return new Exited(exitCode, nativeState, reason, updates);
    }

    public boolean succeeded() {
      return exitCode == 0;
    }
  }

  /**
   * Ended without a usable exit code: killed by a signal, walltime or memory exceeded, node
   * failure. {@code exitCode} is -1 when there is none.
   */
  record Failed(int exitCode, String nativeState, String reason, Map<String, String> attributeUpdates)
      implements JobStatus {
    public Failed {
      requireNonNull(nativeState, "nativeState is null");
      requireNonNull(reason, "reason is null");
      attributeUpdates =
          Map.copyOf(requireNonNull(attributeUpdates, "attributeUpdates is null"));
    }

    public Failed(int exitCode, String nativeState, String reason) {
      this(exitCode, nativeState, reason, Map.of());
    }

    @Override
    public Failed withAttributeUpdates(Map<String, String> updates) {
      return new Failed(exitCode, nativeState, reason, updates);
    }
  }

  /** Ended because it was cancelled. */
  record Cancelled(String nativeState, String reason, Map<String, String> attributeUpdates)
      implements JobStatus {
    public Cancelled {
      requireNonNull(nativeState, "nativeState is null");
      attributeUpdates =
          Map.copyOf(requireNonNull(attributeUpdates, "attributeUpdates is null"));
    }

    public Cancelled(String nativeState, String reason) {
      this(nativeState, reason, Map.of());
    }

    @Override
    public Cancelled withAttributeUpdates(Map<String, String> updates) {
      return new Cancelled(nativeState, reason, updates);
    }
  }

  /** The backend cannot tell now. Never a reason to give up on the job. */
  record Unknown(String reason) implements JobStatus {
    public Unknown {
      requireNonNull(reason, "reason is null");
    }

    @Override
    public String nativeState() {
      return "UNKNOWN";
    }

    /** None: a job the backend cannot see now has nothing new to say. */
    @Override
    public Map<String, String> attributeUpdates() {
      return Map.of();
    }

    /** This status unchanged: an {@code Unknown} status carries no updates. */
    @Override
    public Unknown withAttributeUpdates(Map<String, String> updates) {
      return this;
    }
  }
}
