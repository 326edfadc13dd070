package org.jobyard.engine.control;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.jobyard.api.BackendException;
import org.jobyard.api.Capability;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.LogStream;
import org.jobyard.engine.Engine;
import org.jobyard.engine.access.Access;
import org.jobyard.engine.lease.Leases;
import org.jobyard.engine.manager.Cluster;
import org.jobyard.engine.manager.ManagerStoppedException;
import org.jobyard.engine.manager.RejectedException;
import org.jobyard.engine.store.AttemptRow;
import org.jobyard.engine.store.JobQuery;
import org.jobyard.engine.store.JobRow;
import org.jobyard.engine.store.StoreUnavailableException;
import org.jobyard.engine.store.StoredJson;

/**
 * Everything a user can do to the engine, with who may do it: the one entry point the REST API
 * (and anything else from outside) uses. Reads go to the store; changes go to the job manager.
 */
public final class JobControl {
  private static final long REPLY_SECONDS = 120;
  /** How long a request waits for a store that is away before it answers "store unavailable". */
  private static final long STORE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(800);
  private final Engine engine;
  private final Access access;

  /** Control for an engine whose owner is the OS account this process runs as. */
  public JobControl(Engine engine) {
    this(engine, new Access(engine.config(), System.getProperty("user.name")));
  }

  public JobControl(Engine engine, Access access) {
    this.engine = engine;
    this.access = access;
  }

  /** Stores and submits the jobs, refused whole when they ask for more than is granted. */
  public List<String> submit(Caller caller, List<JobSpec> specs) {
    var health = engine.store().health();
    if (!health.available()) {
      // refused at once: a submit is acknowledged only once stored, and it cannot be now
      engine.store().ping();
    }
    return await(engine.manager().submit(caller.user(), access.admit(caller, specs)));
  }

  /** Whether the job store answers, and if not, a line saying so. */
  public record StoreStatus(boolean available, String message) {}

  /** Asks the store (one round trip, refused at once while it is known to be away). */
  public StoreStatus storeStatus() {
    try {
      engine.store().ping();
      return new StoreStatus(true, null);
    } catch (StoreUnavailableException e) {
      return new StoreStatus(false, e.getMessage());
    }
  }

  public List<JobView> ps(Caller caller, Selector selector) {
    var rows = find(caller, selector);
    var attempts = new LinkedHashMap<String, AttemptRow>();
    engine.store().currentAttempts(rows.stream().filter(r -> r.attempt() > 0).map(JobRow::id)
        .toList()).forEach(a -> attempts.put(a.jobId(), a));
    return rows.stream().map(r -> view(r, attempts.get(r.id()))).toList();
  }

  public List<String> kill(Caller caller, Selector selector) {
    return routed(Leases.KILL, find(caller, selector), engine.manager()::cancel);
  }

  /**
   * Runs the selected finished jobs again, each as a new attempt. Like flush, a selection that
   * holds a live job restarts nothing: narrow it (e.g. by state).
   */
  public List<String> restart(Caller caller, Selector selector) {
    var rows = find(caller, selector);
    if (rows.isEmpty()) {
      throw ControlException.notFound("restart: no job matches " + describe(selector));
    }
    var live = rows.stream().filter(r -> !r.state().isTerminal()).map(JobRow::id).toList();
    if (!live.isEmpty()) {
      throw ControlException.conflict("restart runs finished jobs only; still live: "
          + live.subList(0, Math.min(5, live.size())) + (live.size() > 5 ? " and "
              + (live.size() - 5) + " more" : "") + "; narrow the selection (e.g. --state "
          + "failed); nothing was restarted");
    }
    var ids = new ArrayList<String>();
    for (var row : rows) {
      ids.add(await(engine.manager().restart(row)));
    }
    return ids;
  }

  /** Removes dead jobs only; a selection with a live job removes nothing. */
  public List<String> flush(Caller caller, Selector selector) {
    var rows = find(caller, selector);
    if (rows.isEmpty()) {
      return List.of();
    }
    var attempts = new LinkedHashMap<String, List<AttemptRow>>();
    for (var r : rows) {
      attempts.put(r.id(), engine.store().attempts(r.id()));
    }
    return await(engine.manager().flush(rows, attempts));
  }

  public List<String> pause(Caller caller, Selector selector) {
    return routed(Leases.PAUSE, find(caller, selector), engine.manager()::pause);
  }

  public List<String> resume(Caller caller, Selector selector) {
    return routed(Leases.RESUME, find(caller, selector), engine.manager()::resume);
  }

  /** The job's one log: a file on this machine, or the backend's tail where the job runs. */
  public sealed interface LogSource {
    /** The job's output file on the engine's machine (it may not exist yet). */
    record File(Path path) implements LogSource {}

    /** Read through the backend, where the job runs. */
    record Remote(Cluster cluster, JobRef ref) implements LogSource {}
  }

  /** Where exactly one job's output is, for {@code logs}. */
  public LogSource logSource(Caller caller, Selector selector, LogStream stream) {
    var row = exactlyOne(caller, selector, "logs");
    var spec = StoredJson.spec(row.id(), row.spec());
    var path = stream == LogStream.STDOUT ? spec.stdout() : spec.stderr();
    // only the owner's files are opened here, with the engine's rights; anyone else's log is
    // what their job produced, read by its backend (as their account on a local cluster)
    if (path != null && access.isOwner(row.owner())) {
      return new LogSource.File(Path.of(path));
    }
    var attempt = engine.store().currentAttempts(List.of(row.id())).stream().findFirst();
    if (attempt.isEmpty() || attempt.get().nativeId() == null) {
      throw ControlException.conflict("job " + row.id() + " has not started yet; no log");
    }
    var a = attempt.get();
    var cluster = engine.clusters().stream().filter(c -> c.name().equals(a.cluster()))
        .findFirst().orElseThrow(() -> ControlException.conflict("job " + row.id() + " ran on "
            + "cluster '" + a.cluster() + "', which is no longer configured"));
    if (!cluster.backend().capabilities().contains(Capability.LOG_ACCESS)) {
      throw ControlException.conflict(path != null
          ? "job " + row.id() + " is not the engine owner's, so its log is read only through "
              + "its backend, and backend '" + cluster.backendName() + "' cannot read logs; "
              + "read " + path + " yourself"
          : "job " + row.id() + " names no " + stream.name().toLowerCase() + " file and backend '"
              + cluster.backendName() + "' cannot read logs; set 'stdout'/'stderr' in the job");
    }
    return new LogSource.Remote(cluster, new JobRef(row.id(), a.nativeId(),
        StoredJson.attributes(a.attributes())));
  }

  /** The last {@code lines} lines of a job's log. */
  public String tail(LogSource source, LogStream stream, int lines) {
    return switch (source) {
      case LogSource.File f -> tailFile(f.path(), lines);
      case LogSource.Remote r -> {
        var future = new CompletableFuture<Optional<String>>();
        r.cluster().call(() -> {
          try {
            future.complete(r.cluster().backend().tail(r.ref(), stream, lines));
          } catch (BackendException | RuntimeException e) {
            future.completeExceptionally(e);
          }
        });
        try {
          yield future.get(60, TimeUnit.SECONDS).orElse("");
        } catch (ExecutionException e) {
          throw ControlException.unavailable("cannot read the log on cluster '"
              + r.cluster().name() + "': " + e.getCause().getMessage());
        } catch (TimeoutException e) {
          throw ControlException.unavailable("cluster '" + r.cluster().name()
              + "' did not return the log within 60s");
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw ControlException.unavailable("interrupted");
        }
      }
    };
  }

  /** Whether the job has ended (for following a log). */
  public boolean isFinished(String jobId) {
    return engine.store().job(jobId).map(r -> r.state().isTerminal()).orElse(true);
  }

  /** The engine's metrics, for {@code /metrics}. */
  public org.jobyard.engine.metrics.EngineMetrics metrics() {
    return engine.metrics();
  }

  /** Whether the engine can work now (store and clusters answering), for {@code /readyz}. */
  public org.jobyard.engine.metrics.Readiness readiness() {
    return org.jobyard.engine.metrics.Readiness.of(engine);
  }

  /** One job with every attempt and where its output went ({@code show}). */
  public JobDetail show(Caller caller, String jobId) {
    var row = exactlyOne(caller, Selector.ids(jobId), "show");
    var attempts = engine.store().attempts(row.id());
    var current = attempts.stream().filter(a -> a.attempt() == row.attempt()).findFirst()
        .orElse(null);
    var spec = StoredJson.spec(row.id(), row.spec());
    var keptBy = spec.stdout() != null && spec.stderr() != null ? null
        : current != null ? current.cluster() : null;
    var output = new JobDetail.Output(spec.stdout(), spec.stderr(), keptBy,
        "jobyard logs " + row.id() + (spec.stdout() == null || spec.stderr() != null ? ""
            : " --stderr"));
    return new JobDetail(view(row, current), attempts.stream().map(AttemptView::of).toList(),
        output);
  }

  /** Every attempt of exactly one job, oldest first (for the dashboard's job page). */
  public List<AttemptRow> attempts(Caller caller, String jobId) {
    return engine.store().attempts(exactlyOne(caller, Selector.ids(jobId), "attempts").id());
  }

  /** Plugins, broken plugins and clusters with their health. */
  public Map<String, Object> backends() {
    var out = new LinkedHashMap<String, Object>();
    out.put("plugins", engine.plugins().loaded().stream().map(p -> Map.of("name", p.name(),
        "origin", p.origin())).toList());
    out.put("broken_plugins", engine.plugins().broken().stream().map(b -> Map.of("name",
        b.plugin(), "origin", b.origin(), "error", b.error())).toList());
    var stats = engine.manager().stats();
    var clusters = new ArrayList<Map<String, Object>>();
    for (var c : engine.clusters()) {
      var m = new LinkedHashMap<String, Object>();
      m.put("name", c.name());
      m.put("backend", c.backendName());
      m.put("transport", c.transport().describe());
      m.put("live_jobs", stats.liveByCluster().getOrDefault(c.name(), 0));
      var health = c.health();
      var conditions = engine.conditions();
      m.put("status", health.lastError() == null && !conditions.degraded(c.name()) ? "ok"
          : "degraded");
      m.put("last_error", health.lastError());
      m.put("polls", health.polls());
      m.put("submit_calls", health.submitCalls());
      m.put("conditions", conditions.conditions(c.name()).stream().map(k -> Map.of(
          "severity", k.severity().name().toLowerCase(java.util.Locale.ROOT),
          "subject", k.subject(), "message", k.message())).toList());
      m.put("credentials", conditions.credentials(c.name()));
      m.put("submissions", submissions(c.name()));
      if (c.transport() instanceof org.jobyard.engine.transport.ssh.SshTransport ssh) {
        m.put("ssh", ssh.stats());
      }
      clusters.add(m);
    }
    out.put("clusters", clusters);
    out.put("store", store());
    out.put("services", engine.health());
    return out;
  }

  /**
   * Drains a cluster: no new submissions there until undrained (kept across restarts); its live
   * jobs are tracked to their end, its queued jobs go to their next cluster or wait. Admins only.
   */
  public Map<String, Object> drain(Caller caller, String cluster, String reason) {
    requireOperator(caller, "drain", cluster);
    if (reason != null && (reason.length() > 200
        || !org.jobyard.engine.spec.Printable.escape(reason).equals(reason))) {
      throw ControlException.invalid("drain: the reason must be at most 200 printable "
          + "characters");
    }
    engine.drains().drain(cluster, caller.user(), reason);
    return submissions(cluster);
  }

  /** Opens a drained cluster again (a downtime window still applies). Admins only. */
  public Map<String, Object> undrain(Caller caller, String cluster) {
    requireOperator(caller, "undrain", cluster);
    if (!engine.drains().undrain(cluster, caller.user())) {
      throw ControlException.conflict("undrain: cluster '" + cluster + "' is not drained");
    }
    return submissions(cluster);
  }

  /**
   * Reads the configuration again and takes it without stopping a job, or refuses it whole
   * ({@code invalid}, with every reason) and keeps the one in force. Admins only.
   */
  public Map<String, Object> reload(Caller caller) {
    requireAdmin(caller, "reload");
    org.jobyard.engine.reload.Reloader.Result result;
    try {
      result = engine.reload();
    } catch (org.jobyard.engine.config.ConfigException e) {
      throw ControlException.invalid(e.getMessage());
    }
    var m = new LinkedHashMap<String, Object>();
    m.put("applied", result.applied());
    m.put("at_next_start", result.restart());
    m.put("clusters", engine.clusters().stream().map(Cluster::name).toList());
    return m;
  }

  private static void requireAdmin(Caller caller, String verb) {
    if (!caller.admin()) {
      throw new ControlException("forbidden", verb + " acts on what every user shares: "
          + "only an admin may; ask one, or use a token with admin: true");
    }
  }

  private void requireOperator(Caller caller, String verb, String cluster) {
    requireAdmin(caller, verb);
    if (engine.clusters().stream().noneMatch(c -> c.name().equals(cluster))) {
      throw ControlException.notFound(verb + ": no cluster named '" + cluster + "'; configured: "
          + engine.clusters().stream().map(Cluster::name).toList());
    }
  }

  /** Whether the cluster takes new submissions, and if not who drained it or which window. */
  private Map<String, Object> submissions(String cluster) {
    var drains = engine.drains();
    var m = new LinkedHashMap<String, Object>();
    m.put("cluster", cluster);
    var drained = drains.drained(cluster);
    var window = drains.window(cluster);
    m.put("state", drained.isPresent() ? "drained" : window.isPresent() ? "downtime" : "open");
    drained.ifPresent(d -> {
      m.put("drained_by", d.by());
      m.put("drained_since", d.since().toString());
      m.put("reason", d.reason());
    });
    m.put("downtime", drains.upcoming(cluster).stream().map(w -> Map.of("from",
        w.from().toString(), "to", w.to().toString())).toList());
    return m;
  }

  /** The store: available or not, its pool, and (i18) the engines that share it. */
  private Map<String, Object> store() {
    var m = new LinkedHashMap<String, Object>();
    var status = engine.store().health().status();
    m.put("available", status.available());
    m.put("last_error", status.lastError());
    m.put("pool", engine.storePool());
    engine.leases().lease().ifPresent(l -> {
      m.put("engine_id", l.engineId());
      try {
        m.put("engines", l.peers());
      } catch (RuntimeException e) {
        m.put("engines", List.of()); // the store is away: said by "available" above
      }
    });
    return m;
  }

  // ---------------------------------------------------------------------------------------

  /**
   * Acts on this engine's jobs through its manager; a job another engine owns (i18) gets a stored
   * command its owner carries out within a second, and counts as acted on.
   *
   * <p>When engines share the store, a live job the manager did not act on may be one it had just
   * released to the shared queue ({@code manager.Overflow}) when the command was routed to it,
   * before that release was committed. The manager answers only after the commits of its earlier
   * turns, so by then the job is in the shared queue: routed once more, it is claimed back here
   * (or the command is stored for whichever engine claimed it), and the command is not lost.
   */
  private List<String> routed(String action, List<JobRow> rows,
      Function<List<String>, CompletableFuture<List<String>>> here) {
    var ids = rows.stream().map(JobRow::id).toList();
    var done = routeOnce(action, ids, here);
    if (engine.leases().lease().isEmpty()) {
      return done;
    }
    var acted = Set.copyOf(done);
    var missed = rows.stream().filter(r -> !r.state().isTerminal() && !acted.contains(r.id()))
        .map(JobRow::id).toList();
    if (missed.isEmpty()) {
      return done;
    }
    var out = new ArrayList<>(done);
    out.addAll(routeOnce(action, missed, here));
    return out;
  }

  private List<String> routeOnce(String action, List<String> ids,
      Function<List<String>, CompletableFuture<List<String>>> here) {
    if (ids.isEmpty()) {
      return List.of();
    }
    var routed = engine.leases().route(action, ids);
    if (!routed.claimed().isEmpty()) {
      engine.manager().adopt(routed.claimed()); // i18: from the shared queue, before the command
    }
    var out = new ArrayList<>(routed.here().isEmpty() ? List.<String>of()
        : await(here.apply(routed.here())));
    out.addAll(routed.sent());
    return out;
  }

  private List<JobRow> find(Caller caller, Selector s) {
    var visible = caller.admin() ? Set.<String>of() : Set.of(caller.user());
    return engine.store().find(new JobQuery(s.ids(), s.names(), s.users(), s.sessions(),
        s.states(), visible, 0));
  }

  private JobRow exactlyOne(Caller caller, Selector selector, String verb) {
    if (selector.isEmpty()) {
      throw ControlException.invalid(verb + " needs exactly one job: give its id or name");
    }
    var rows = find(caller, selector);
    if (rows.isEmpty()) {
      throw ControlException.notFound(verb + ": no job matches " + describe(selector));
    }
    if (rows.size() > 1) {
      throw ControlException.conflict(verb + " acts on exactly one job, but " + rows.size()
          + " match " + describe(selector) + ": " + rows.stream().limit(5).map(JobRow::id)
              .toList() + "; give an id");
    }
    return rows.getFirst();
  }

  private static String describe(Selector s) {
    var parts = new ArrayList<String>();
    if (!s.ids().isEmpty()) {
      parts.add("ids " + s.ids());
    }
    if (!s.names().isEmpty()) {
      parts.add("names " + s.names());
    }
    if (!s.users().isEmpty()) {
      parts.add("users " + s.users());
    }
    if (!s.sessions().isEmpty()) {
      parts.add("sessions " + s.sessions());
    }
    return parts.isEmpty() ? "(everything)" : String.join(" or ", parts)
        + (s.states().isEmpty() ? "" : " in states " + s.states());
  }

  private static JobView view(JobRow r, AttemptRow a) {
    return new JobView(r.id(), r.name(), r.owner(), r.session(), r.state().name(),
        r.desired().name(), r.exitCode(), r.reason(), r.attempt(),
        a == null ? null : a.cluster(), a == null ? null : a.nativeId(),
        a == null ? null : a.nativeState(), r.createdAt(), r.updatedAt());
  }

  private <T> T await(CompletableFuture<T> future) {
    try {
      // the manager answers once its changes are stored: while the store is away that can take
      // as long as the outage, so the caller hears "store unavailable" instead of waiting
      long start = System.nanoTime();
      long deadline = start + TimeUnit.SECONDS.toNanos(REPLY_SECONDS);
      while (true) {
        try {
          return future.get(200, TimeUnit.MILLISECONDS);
        } catch (TimeoutException slice) {
          var health = engine.store().health();
          // (not at the first slice: the store may be counted away for a moment while the
          // pool replaces a dead connection, and the reply is about to come)
          if (!health.available() && System.nanoTime() - start >= STORE_WAIT_NANOS) {
            throw new StoreUnavailableException(health.unavailableMessage() + " (this request "
                + "reached the engine and takes effect once its changes are stored, unless the "
                + "engine stops first: check with 'jobyard ps' then)", null);
          }
          if (System.nanoTime() > deadline) {
            throw slice;
          }
        }
      }
    } catch (ExecutionException e) {
      throw switch (e.getCause()) {
        case RejectedException r -> ControlException.conflict(r.getMessage());
        case ManagerStoppedException s -> ControlException.unavailable(s.getMessage());
        case RuntimeException r -> r;
        default -> new IllegalStateException(e.getCause());
      };
    } catch (TimeoutException e) {
      throw ControlException.unavailable("the engine did not answer within " + REPLY_SECONDS
          + "s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ControlException.unavailable("interrupted");
    }
  }

  /** The last lines of a file ("" if it does not exist yet), reading only its end, bounded. */
  static String tailFile(Path path, int lines) {
    if (!Files.isRegularFile(path)) {
      return "";
    }
    try (var f = new RandomAccessFile(path.toFile(), "r")) {
      return LogTail.read(f, lines);
    } catch (IOException e) {
      throw ControlException.unavailable("cannot read " + path + ": " + e.getMessage());
    }
  }
}
