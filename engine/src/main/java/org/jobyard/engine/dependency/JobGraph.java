package org.jobyard.engine.dependency;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.jobyard.api.JobSpec;
import org.jobyard.engine.spec.Printable;

/**
 * The dependencies of one submission as read: each {@code after} entry names jobs of the same
 * submission (exactly, or with {@code *} for any characters, so one entry can wait for a whole
 * sweep) or is the id of an earlier job. Pure: {@link #check} finds unknown names and cycles,
 * {@link #targets} says which jobs of the submission an entry means.
 */
public final class JobGraph {
  /** The shape of the ids the engine gives jobs ({@code jy-} and 12 letters or digits). */
  private static final Pattern ID = Pattern.compile("jy-[a-z0-9]{12}");

  private JobGraph() {}

  public static boolean looksLikeId(String text) {
    return ID.matcher(text).matches();
  }

  /** The indices of the submission's jobs that {@code entry} names, never {@code self}. */
  public static List<Integer> targets(List<JobSpec> specs, int self, String entry) {
    return new Names(specs).targets(self, entry);
  }

  /** The submission's jobs by name, so that exact names are found without a scan. */
  public static final class Names {
    private final List<JobSpec> specs;
    private final java.util.Map<String, List<Integer>> byName = new java.util.HashMap<>();

    public Names(List<JobSpec> specs) {
      this.specs = specs;
      for (int i = 0; i < specs.size(); i++) {
        byName.computeIfAbsent(specs.get(i).name(), k -> new ArrayList<>()).add(i);
      }
    }

    public List<Integer> targets(int self, String entry) {
      if (!entry.contains("*")) {
        return byName.getOrDefault(entry, List.of()).stream().filter(i -> i != self).toList();
      }
      var glob = Pattern.compile(String.join(".*",
          List.of(entry.split("\\*", -1)).stream().map(Pattern::quote).toList()));
      var out = new ArrayList<Integer>();
      for (int i = 0; i < specs.size(); i++) {
        if (i != self && glob.matcher(specs.get(i).name()).matches()) {
          out.add(i);
        }
      }
      return out;
    }
  }

  /**
   * Adds one problem per unknown name and per cycle, naming the source, the jobs and the field.
   * An entry that names no job of the submission must look like a job id.
   */
  public static void check(String source, List<JobSpec> specs, List<String> problems) {
    var edges = new ArrayList<List<Integer>>();
    var names = new Names(specs);
    for (int i = 0; i < specs.size(); i++) {
      var targets = new ArrayList<Integer>();
      var after = specs.get(i).after();
      for (int k = 0; k < after.size(); k++) {
        var entry = after.get(k).job();
        var found = names.targets(i, entry);
        if (found.isEmpty() && !looksLikeId(entry)) {
          problems.add(where(source, specs, i) + ", field 'after[" + k + "]': "
              + (entry.equals(specs.get(i).name()) ? "the job waits for itself"
                  : "no other job named '" + Printable.escape(entry) + "' in " + source)
              + "; name another job of the same file (a * matches any characters) or give an "
              + "earlier job's id (jy-...)");
        }
        targets.addAll(found);
      }
      edges.add(targets);
    }
    var cycle = cycle(edges);
    if (!cycle.isEmpty()) {
      var path = cycle.stream().map(i -> "'" + Printable.escape(specs.get(i).name()) + "'")
          .toList();
      problems.add(source + ": jobs " + String.join(" -> ", path) + " wait for each other "
          + "(field 'after'), so none of them could ever start; remove one of these edges");
    }
  }

  private static String where(String source, List<JobSpec> specs, int i) {
    var name = "'" + Printable.escape(specs.get(i).name()) + "'";
    return source + ": " + (specs.size() == 1 ? "job " + name : "job " + (i + 1) + " (" + name
        + ")");
  }

  /** One cycle as a path that returns to its first job, or empty; iterative (deep chains). */
  static List<Integer> cycle(List<List<Integer>> edges) {
    int n = edges.size();
    var color = new int[n]; // 0 new, 1 on the current path, 2 done
    var parent = new int[n];
    var next = new int[n];
    for (int start = 0; start < n; start++) {
      if (color[start] != 0) {
        continue;
      }
      var stack = new java.util.ArrayDeque<Integer>();
      stack.push(start);
      color[start] = 1;
      parent[start] = -1;
      while (!stack.isEmpty()) {
        int v = stack.peek();
        if (next[v] < edges.get(v).size()) {
          int w = edges.get(v).get(next[v]++);
          if (color[w] == 0) {
            color[w] = 1;
            parent[w] = v;
            stack.push(w);
          } else if (color[w] == 1) {
            var path = new ArrayList<Integer>();
            for (int x = v; x != w; x = parent[x]) {
              path.addFirst(x);
            }
            path.addFirst(w);
            path.add(w);
            return path;
          }
        } else {
          color[v] = 2;
          stack.pop();
        }
      }
    }
    return List.of();
  }
}
