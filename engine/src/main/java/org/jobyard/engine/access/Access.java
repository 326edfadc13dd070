package org.jobyard.engine.access;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jobyard.api.JobSpec;
import org.jobyard.engine.config.ClusterConfig;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.control.Caller;
import org.jobyard.engine.control.ControlException;

/**
 * What the configuration grants each API user (docs/security.md). The engine's owner — the OS
 * account the engine runs as — may use every cluster and path. Anyone else may use only the
 * clusters whose {@code users} name them, only paths inside their workspace, and on a local
 * cluster runs as the OS account their token maps them to ({@code native.local.run_as}, which
 * the engine sets and no user may).
 */
public final class Access {
  /** The local backend's option that makes a job run as another OS account. */
  public static final String RUN_AS = "run_as";

  private final String owner;
  private final EngineConfig config;
  private final Map<String, EngineConfig.Api.Token> users = new HashMap<>();
  private final Map<String, Optional<Workspace>> workspaces = new ConcurrentHashMap<>();

  public Access(EngineConfig config, String owner) {
    this.config = requireNonNull(config, "config is null");
    this.owner = requireNonNull(owner, "owner is null");
    config.api().tokens().forEach(t -> users.putIfAbsent(t.user(), t));
  }

  /** Whether {@code user} is the engine's owner, who acts with the engine's own rights. */
  public boolean isOwner(String user) {
    return owner.equals(user);
  }

  /**
   * The jobs as they may run for {@code caller}: unchanged for the owner; for anyone else
   * refused whole ({@code forbidden}, 403) when a job names a cluster not granted to them or a
   * path outside their workspace, else with the OS account their local jobs run as filled in.
   */
  public List<JobSpec> admit(Caller caller, List<JobSpec> specs) {
    if (isOwner(caller.user())) {
      return specs;
    }
    var user = caller.user();
    var token = users.get(user);
    var account = token == null ? null : token.account();
    var problems = new ArrayList<String>();
    var out = new ArrayList<JobSpec>(specs.size());
    for (int i = 0; i < specs.size(); i++) {
      var spec = specs.get(i);
      var where = "job " + (i + 1) + " ('" + spec.name() + "')";
      var clusters = spec.clusters().isEmpty() ? config.defaultClusters() : spec.clusters();
      for (var name : clusters) {
        var cluster = config.clusters().get(name);
        if (cluster == null) {
          continue; // the job manager names unknown clusters
        }
        if (!granted(cluster, user)) {
          problems.add(where + ": cluster '" + name + "' is not granted to user '" + user
              + "'; the engine's owner can add them to clusters." + name + ".users");
        } else if (runsAsAccounts(cluster) && account == null) {
          problems.add(where + ": cluster '" + name + "' runs jobs as OS accounts and user '"
              + user + "' has none; the engine's owner can map one with api.tokens[].account");
        }
      }
      if (spec.nativeOptions("local").containsKey(RUN_AS)) {
        problems.add(where + ": native.local." + RUN_AS + " is set by the engine from the "
            + "configuration, not by a job");
      }
      confine(user, token, spec, where, problems);
      // mapped to the engine's own account: trusted with it, so nothing to drop to
      out.add(account == null || account.equals(owner) ? spec : runAs(spec, account));
    }
    if (!problems.isEmpty()) {
      throw new ControlException("forbidden", "refused, nothing was stored: "
          + String.join("; ", problems));
    }
    return out;
  }

  private static boolean granted(ClusterConfig cluster, String user) {
    return cluster.users().contains(user) || cluster.users().contains("*");
  }

  /** A local cluster on this machine: its jobs would run as the engine's account otherwise. */
  private static boolean runsAsAccounts(ClusterConfig cluster) {
    return cluster.backend().equals("local") && cluster.transportType().equals("local");
  }

  private void confine(String user, EngineConfig.Api.Token token, JobSpec spec, String where,
      List<String> problems) {
    var paths = new ArrayList<String[]>();
    add(paths, "directory", spec.directory());
    add(paths, "stdout", spec.stdout());
    add(paths, "stderr", spec.stderr());
    // a URL input is fetched by the cluster, not read on the engine's machine
    spec.inputFiles().stream().filter(f -> !f.fromUrl())
        .forEach(f -> add(paths, "inputs.source", f.source()));
    spec.outputFiles().forEach(f -> add(paths, "outputs.destination", f.destination()));
    if (paths.isEmpty()) {
      return;
    }
    var workspace = workspaces.computeIfAbsent(user, u -> workspaceOf(token));
    if (workspace.isEmpty()) {
      problems.add(where + ": user '" + user + "' has no workspace, so the job may name no "
          + "paths; the engine's owner can set api.tokens[].workspace or account");
      return;
    }
    for (var p : paths) {
      workspace.get().escape(p[1]).ifPresent(why ->
          problems.add(where + ": field '" + p[0] + "': " + why + "; paths must stay in "
              + workspace.get().root()));
    }
  }

  private static void add(List<String[]> paths, String field, String value) {
    if (value != null && !value.isBlank()) {
      paths.add(new String[] {field, value});
    }
  }

  private static Optional<Workspace> workspaceOf(EngineConfig.Api.Token token) {
    if (token == null) {
      return Optional.empty();
    }
    if (token.workspace() != null) {
      return Optional.of(new Workspace(token.workspace()));
    }
    return token.account() == null ? Optional.empty()
        : Workspace.homeOf(token.account()).map(Workspace::new);
  }

  private static JobSpec runAs(JobSpec s, String account) {
    var natives = new HashMap<>(s.nativeOptions());
    var local = new HashMap<>(s.nativeOptions("local"));
    local.put(RUN_AS, account);
    natives.put("local", Map.copyOf(local));
    return s.withNativeOptions(natives);
  }
}
