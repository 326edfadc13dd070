package org.jobyard.engine.store;

import java.util.List;
import java.util.Set;
import org.jobyard.api.JobState;

/**
 * Selects jobs as drunc's ProcessQuery does: by ids OR names OR users OR sessions (empty lists
 * select nothing by that criterion; all empty selects every job), then narrowed by state and by
 * the owners a caller may see.
 *
 * @param visibleTo owners whose jobs the caller may see; empty means all (admin)
 */
public record JobQuery(List<String> ids, List<String> names, List<String> users,
    List<String> sessions, Set<JobState> states, Set<String> visibleTo, int limit) {

  public JobQuery {
    ids = List.copyOf(ids);
    names = List.copyOf(names);
    users = List.copyOf(users);
    sessions = List.copyOf(sessions);
    states = Set.copyOf(states);
    visibleTo = Set.copyOf(visibleTo);
  }

  public static JobQuery all() {
    return new JobQuery(List.of(), List.of(), List.of(), List.of(), Set.of(), Set.of(), 0);
  }

  public static JobQuery byIds(List<String> ids) {
    return new JobQuery(ids, List.of(), List.of(), List.of(), Set.of(), Set.of(), 0);
  }

  public boolean selectsAll() {
    return ids.isEmpty() && names.isEmpty() && users.isEmpty() && sessions.isEmpty();
  }
}
