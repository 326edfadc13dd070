package org.jobyard.engine.control;

import java.util.List;
import java.util.Set;
import org.jobyard.api.JobState;

/**
 * Which jobs a command is about: ids OR names OR users OR sessions (drunc's ProcessQuery), then
 * narrowed by state. All empty selects every job the caller may see.
 */
public record Selector(List<String> ids, List<String> names, List<String> users,
    List<String> sessions, Set<JobState> states) {

  public Selector {
    ids = List.copyOf(ids);
    names = List.copyOf(names);
    users = List.copyOf(users);
    sessions = List.copyOf(sessions);
    states = Set.copyOf(states);
  }

  public static Selector all() {
    return new Selector(List.of(), List.of(), List.of(), List.of(), Set.of());
  }

  public static Selector ids(String... ids) {
    return new Selector(List.of(ids), List.of(), List.of(), List.of(), Set.of());
  }

  public boolean isEmpty() {
    return ids.isEmpty() && names.isEmpty() && users.isEmpty() && sessions.isEmpty()
        && states.isEmpty();
  }
}
