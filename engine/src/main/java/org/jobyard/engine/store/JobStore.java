package org.jobyard.engine.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.PreparedBatch;
import org.jdbi.v3.core.statement.StatementContext;
import org.jobyard.api.JobState;

/**
 * Every SQL statement of the job tables, in one place. Writes go only through {@link #apply},
 * one transaction per call: the job manager hands it all the changes that arrived together
 * (group commit), each job's changes still atomic.
 */
public final class JobStore {
  private static final String JOB_COLUMNS = "id, seq, name, owner, session, spec, desired, state,"
      + " attempt, cluster_index, retries_left, exit_code, reason, created_at, updated_at";
  private static final String ATTEMPT_COLUMNS = "job_id, attempt, cluster, backend, native_id,"
      + " native_state, state, exit_code, reason, attributes, created_at, updated_at, started_at,"
      + " ended_at";

  /** How many sequence numbers (or outbox ids) an engine sharing the store takes at a time. */
  static final int BLOCK = 1000;

  private final Jdbi jdbi;
  private final StoreHealth health;
  private final Fence fence;
  private final Block seqs = new Block("job_seq", "SELECT COALESCE(MAX(seq), 0) FROM jobs");
  private final Block outboxIds = new Block("outbox_id", "SELECT COALESCE(MAX(id), 0) FROM outbox");

  /** The store of an engine that is its only user. */
  public JobStore(Database database) {
    this(database, Fence.SOLE);
  }

  /** The store as one of several engines sees it: it writes and loads only the jobs it owns. */
  public JobStore(Database database, Fence fence) {
    this.jdbi = database.jdbi();
    this.health = database.health();
    this.fence = java.util.Objects.requireNonNull(fence, "fence is null");
  }

  /** This engine's id among several sharing the store; null when it is the only one. */
  public String engineId() {
    return fence.engineId();
  }

  /** Whether the store answers, as the last access found. */
  public StoreHealth health() {
    return health;
  }

  /** A cheap round trip to the database: throws {@link StoreUnavailableException} if away. */
  public void ping() {
    read(h -> h.createQuery("SELECT 1").mapTo(Integer.class).one());
  }

  /**
   * Every read goes through here: refused at once while the store is known to be down (but for
   * a probe now and then), and a failure that means "the database is away" becomes {@link
   * StoreUnavailableException}.
   */
  private <T> T read(org.jdbi.v3.core.HandleCallback<T, RuntimeException> callback) {
    health.checkAvailable();
    return once(() -> jdbi.withHandle(callback));
  }

  /**
   * Runs one access; a failure that looks like an outage is tried once more at once (after a
   * database restart the pool may still hold a dead connection, which the failure evicted) before
   * the store counts as unavailable.
   */
  private <T> T once(java.util.function.Supplier<T> access) {
    for (int tries = 1; ; tries++) {
      try {
        var result = access.get();
        health.up();
        return result;
      } catch (RuntimeException e) {
        if (!StoreHealth.isOutage(e)) {
          throw e;
        }
        if (tries == 2) {
          throw health.down(e);
        }
      }
    }
  }

  /** Writes the changes in one transaction, in an order that respects their dependencies. */
  public void apply(List<? extends Change> changes) {
    if (changes.isEmpty()) {
      return;
    }
    try {
      once(() -> {
        jdbi.useTransaction(h -> {
          fence.check(h);
          writeAll(h, changes, fence.engineId());
        });
        return null;
      });
    } catch (StoreUnavailableException | FencedException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new StoreException("cannot write " + changes.size() + " job change(s): "
          + Database.rootMessage(e), e);
    }
  }

  private static void writeAll(org.jdbi.v3.core.Handle h, List<? extends Change> changes,
      String engineId) {
    // a job an engine writes is its own (new, restarted, or one it holds); NULL on a sole engine
    var insertJobs = h.prepareBatch("INSERT INTO jobs (" + JOB_COLUMNS + ", engine_id) VALUES"
        + " (:id, :seq, :name, :owner, :session, :spec, :desired, :state, :attempt, :clusterIndex,"
        + " :retriesLeft, :exitCode, :reason, :createdAt, :updatedAt, :engineId)");
    var insertAttempts = h.prepareBatch("INSERT INTO attempts (" + ATTEMPT_COLUMNS + ") VALUES"
        + " (:jobId, :attempt, :cluster, :backend, :nativeId, :nativeState, :state, :exitCode,"
        + " :reason, :attributes, :createdAt, :updatedAt, :startedAt, :endedAt)");
    var updateJobs = h.prepareBatch("UPDATE jobs SET desired = :desired, state = :state,"
        + " attempt = :attempt, cluster_index = :clusterIndex, retries_left = :retriesLeft,"
        + " exit_code = :exitCode, reason = :reason, updated_at = :updatedAt,"
        + " engine_id = :engineId WHERE id = :id");
    var updateAttempts = h.prepareBatch("UPDATE attempts SET native_id = :nativeId,"
        + " native_state = :nativeState, state = :state, exit_code = :exitCode,"
        + " reason = :reason, attributes = :attributes, updated_at = :updatedAt,"
        + " started_at = :startedAt, ended_at = :endedAt WHERE job_id = :jobId AND attempt = :attempt");
    var insertOutbox = h.prepareBatch("INSERT INTO outbox (id, job_id, action, payload,"
        + " created_at, engine_id) VALUES (:id, :jobId, :action, :payload, :createdAt, :engineId)");
    var releaseJobs = h.prepareBatch("UPDATE jobs SET engine_id = NULL, pooled_for = :cluster"
        + " WHERE id = :id AND engine_id = :engineId AND state = 'QUEUED'");
    var deleteOutbox = h.prepareBatch("DELETE FROM outbox WHERE id = :id");
    var deleteJobs = h.prepareBatch("DELETE FROM jobs WHERE id = :id");
    var now = Timestamp.from(Instant.now());
    for (var change : merged(changes)) {
      switch (change) {
        case Change.InsertJob(var r) -> bindJob(insertJobs, r).bind("engineId", engineId).add();
        case Change.UpdateJob(var r) -> bindJob(updateJobs, r).bind("engineId", engineId).add();
        case Change.InsertAttempt(var r) -> bindAttempt(insertAttempts, r).add();
        case Change.UpdateAttempt(var r) -> bindAttempt(updateAttempts, r).add();
        case Change.DeleteJob(var id) -> deleteJobs.bind("id", id).add();
        case Change.InsertOutbox(var id, var jobId, var action, var payload) ->
            insertOutbox.bind("id", id).bind("jobId", jobId).bind("action", action)
                .bind("payload", payload).bind("createdAt", now).bind("engineId", engineId).add();
        case Change.ReleaseJob(var id, var cluster) ->
            releaseJobs.bind("id", id).bind("cluster", cluster).bind("engineId", engineId).add();
        case Change.DeleteOutbox(var id) -> deleteOutbox.bind("id", id).add();
      }
    }
    for (var batch : List.of(insertJobs, insertAttempts, updateJobs, updateAttempts,
        insertOutbox, deleteOutbox, deleteJobs, releaseJobs)) {
      if (batch.size() > 0) {
        batch.execute();
      }
    }
  }

  /**
   * The changes without the updates a later update of the same row in the same transaction
   * replaces: an update rewrites every mutable column, so only the last one counts. A group
   * commit often carries several states of one job (submitted, running, ended), and each
   * statement saved is a row rewritten less in the database's pages.
   */
  static List<Change> merged(List<? extends Change> changes) {
    var lastJob = new java.util.HashMap<String, Integer>();
    var lastAttempt = new java.util.HashMap<String, Integer>();
    for (int i = 0; i < changes.size(); i++) {
      switch (changes.get(i)) {
        case Change.UpdateJob(var r) -> lastJob.put(r.id(), i);
        case Change.UpdateAttempt(var r) -> lastAttempt.put(r.attempt() + " " + r.jobId(), i);
        default -> { }
      }
    }
    var out = new ArrayList<Change>(changes.size());
    for (int i = 0; i < changes.size(); i++) {
      var keep = switch (changes.get(i)) {
        case Change.UpdateJob(var r) -> lastJob.get(r.id()) == i;
        case Change.UpdateAttempt(var r) -> lastAttempt.get(r.attempt() + " " + r.jobId()) == i;
        default -> true;
      };
      if (keep) {
        out.add(changes.get(i));
      }
    }
    return out;
  }

  private static PreparedBatch bindJob(PreparedBatch b, JobRow r) {
    return b.bind("id", r.id()).bind("seq", r.seq()).bind("name", r.name())
        .bind("owner", r.owner()).bind("session", r.session()).bind("spec", r.spec())
        .bind("desired", r.desired().name()).bind("state", r.state().name())
        .bind("attempt", r.attempt()).bind("clusterIndex", r.clusterIndex())
        .bind("retriesLeft", r.retriesLeft()).bind("exitCode", r.exitCode())
        .bind("reason", clip(r.reason())).bind("createdAt", Timestamp.from(r.createdAt()))
        .bind("updatedAt", Timestamp.from(r.updatedAt()));
  }

  private static PreparedBatch bindAttempt(PreparedBatch b, AttemptRow r) {
    return b.bind("jobId", r.jobId()).bind("attempt", r.attempt()).bind("cluster", r.cluster())
        .bind("backend", r.backend()).bind("nativeId", r.nativeId())
        .bind("nativeState", clip64(r.nativeState())).bind("state", r.state().name())
        .bind("exitCode", r.exitCode()).bind("reason", clip(r.reason()))
        .bind("attributes", r.attributes()).bind("createdAt", Timestamp.from(r.createdAt()))
        .bind("updatedAt", Timestamp.from(r.updatedAt()))
        .bind("startedAt", timestamp(r.startedAt())).bind("endedAt", timestamp(r.endedAt()));
  }

  private static Timestamp timestamp(Instant i) {
    return i == null ? null : Timestamp.from(i);
  }

  private static Instant instant(ResultSet rs, String column) throws SQLException {
    var t = rs.getTimestamp(column);
    return t == null ? null : t.toInstant();
  }

  private static String clip(String s) {
    return s == null || s.length() <= 2000 ? s : s.substring(0, 1997) + "...";
  }

  private static String clip64(String s) {
    return s == null || s.length() <= 64 ? s : s.substring(0, 64);
  }

  /** A live job with its current attempt, if it has one. */
  public record LiveJob(JobRow job, AttemptRow attempt) {}

  /**
   * Every live job with its current attempt, oldest first, in one query: what the manager needs
   * at start, however many jobs there are.
   */
  public List<LiveJob> liveJobsWithAttempts() {
    return liveJobs(fence.engineId() == null ? "" : " AND j.engine_id = :engine", List.of());
  }

  /** The given jobs, if live, with their current attempts (jobs this engine just took over). */
  public List<LiveJob> liveJobsWithAttempts(List<String> ids) {
    var out = new ArrayList<LiveJob>();
    for (int i = 0; i < ids.size(); i += 1000) {
      out.addAll(liveJobs(" AND j.id IN (<ids>)", ids.subList(i, Math.min(ids.size(), i + 1000))));
    }
    return out;
  }

  private List<LiveJob> liveJobs(String where, List<String> ids) {
    return read(h -> {
      var query = h.createQuery("SELECT j.id, j.seq, j.name, j.owner, j.session,"
        + " j.spec, j.desired, j.state, j.attempt, j.cluster_index, j.retries_left, j.exit_code,"
        + " j.reason, j.created_at, j.updated_at, a.cluster AS a_cluster, a.backend AS a_backend,"
        + " a.native_id AS a_native_id, a.native_state AS a_native_state, a.state AS a_state,"
        + " a.exit_code AS a_exit_code, a.reason AS a_reason, a.attributes AS a_attributes,"
        + " a.created_at AS a_created_at, a.updated_at AS a_updated_at,"
        + " a.started_at AS a_started_at, a.ended_at AS a_ended_at"
        + " FROM jobs j LEFT JOIN attempts a ON a.job_id = j.id AND a.attempt = j.attempt"
        + " WHERE j.state NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED')" + where + " ORDER BY j.seq");
      if (!ids.isEmpty()) {
        query.bindList("ids", ids);
      }
      if (where.contains(":engine")) {
        query.bind("engine", fence.engineId());
      }
      return query.map((rs, ctx) -> {
          var job = job(rs, ctx);
          var cluster = rs.getString("a_cluster");
          var attempt = cluster == null ? null : new AttemptRow(job.id(), job.attempt(), cluster,
              rs.getString("a_backend"), rs.getString("a_native_id"),
              rs.getString("a_native_state"), JobState.valueOf(rs.getString("a_state")),
              (Integer) rs.getObject("a_exit_code", Integer.class), rs.getString("a_reason"),
              rs.getString("a_attributes"), rs.getTimestamp("a_created_at").toInstant(),
              rs.getTimestamp("a_updated_at").toInstant(), instant(rs, "a_started_at"),
              instant(rs, "a_ended_at"));
          return new LiveJob(job, attempt);
        }).list();
    });
  }

  /** The current attempt of each given job that has one. */
  public List<AttemptRow> currentAttempts(List<String> jobIds) {
    if (jobIds.isEmpty()) {
      return List.of();
    }
    var out = new ArrayList<AttemptRow>();
    // bounded IN lists: some databases limit the number of parameters
    for (int i = 0; i < jobIds.size(); i += 1000) {
      var part = jobIds.subList(i, Math.min(jobIds.size(), i + 1000));
      out.addAll(read(h -> h.createQuery("SELECT a.job_id, a.attempt, a.cluster,"
          + " a.backend, a.native_id, a.native_state, a.state, a.exit_code, a.reason, a.attributes,"
          + " a.created_at, a.updated_at, a.started_at, a.ended_at FROM attempts a JOIN jobs j ON j.id = a.job_id AND"
          + " j.attempt = a.attempt WHERE a.job_id IN (<ids>)").bindList("ids", part)
          .map(JobStore::attempt).list()));
    }
    return out;
  }

  public List<AttemptRow> attempts(String jobId) {
    return read(h -> h.createQuery("SELECT " + ATTEMPT_COLUMNS + " FROM attempts"
        + " WHERE job_id = :id ORDER BY attempt").bind("id", jobId).map(JobStore::attempt).list());
  }

  public Optional<JobRow> job(String id) {
    return read(h -> h.createQuery("SELECT " + JOB_COLUMNS + " FROM jobs WHERE id = :id")
        .bind("id", id).map(JobStore::job).findOne());
  }

  /** A job's name and state, for who waits for it ({@code after}). */
  public record NameState(String name, JobState state) {}

  /**
   * i18: the names and states of the given jobs (those that exist), read in batches: what an
   * engine's waiting jobs wait for when another engine runs it.
   */
  public Map<String, NameState> states(List<String> ids) {
    var out = new HashMap<String, NameState>();
    for (int i = 0; i < ids.size(); i += 1000) {
      var part = ids.subList(i, Math.min(ids.size(), i + 1000));
      read(h -> h.createQuery("SELECT id, name, state FROM jobs WHERE id IN (<ids>)")
          .bindList("ids", part).map((rs, ctx) -> Map.entry(rs.getString(1),
              new NameState(rs.getString(2), JobState.valueOf(rs.getString(3))))).list())
          .forEach(e -> out.put(e.getKey(), e.getValue()));
    }
    return out;
  }

  /** Jobs matching the query, oldest first. */
  public List<JobRow> find(JobQuery q) {
    var sql = new StringBuilder("SELECT " + JOB_COLUMNS + " FROM jobs WHERE 1 = 1");
    if (!q.selectsAll()) {
      var any = new ArrayList<String>();
      if (!q.ids().isEmpty()) {
        any.add("id IN (<ids>)");
      }
      if (!q.names().isEmpty()) {
        any.add("name IN (<names>)");
      }
      if (!q.users().isEmpty()) {
        any.add("owner IN (<users>)");
      }
      if (!q.sessions().isEmpty()) {
        any.add("session IN (<sessions>)");
      }
      sql.append(" AND (").append(String.join(" OR ", any)).append(')');
    }
    if (!q.states().isEmpty()) {
      sql.append(" AND state IN (<states>)");
    }
    if (!q.visibleTo().isEmpty()) {
      sql.append(" AND owner IN (<visible>)");
    }
    sql.append(" ORDER BY seq");
    if (q.limit() > 0) {
      sql.append(" LIMIT ").append(q.limit());
    }
    return read(h -> {
      var query = h.createQuery(sql.toString());
      if (!q.ids().isEmpty()) {
        query.bindList("ids", q.ids());
      }
      if (!q.names().isEmpty()) {
        query.bindList("names", q.names());
      }
      if (!q.users().isEmpty()) {
        query.bindList("users", q.users());
      }
      if (!q.sessions().isEmpty()) {
        query.bindList("sessions", q.sessions());
      }
      if (!q.states().isEmpty()) {
        query.bindList("states", q.states().stream().map(Enum::name).toList());
      }
      if (!q.visibleTo().isEmpty()) {
        query.bindList("visible", List.copyOf(q.visibleTo()));
      }
      return query.map(JobStore::job).list();
    });
  }

  public long maxSeq() {
    return read(h -> h.createQuery("SELECT COALESCE(MAX(seq), 0) FROM jobs")
        .mapTo(Long.class).one());
  }

  /**
   * The sequence number for the next new job after {@code last}: simply the next one when this
   * engine is the store's only one; else one from this engine's block (a new block, from the
   * store, every {@link #BLOCK} jobs).
   */
  public long nextSeq(long last) {
    return fence.engineId() == null ? last + 1 : seqs.next();
  }

  /** The id for the next outbox entry after {@code last}; see {@link #nextSeq}. */
  public long nextOutboxId(long last) {
    return fence.engineId() == null ? last + 1 : outboxIds.next();
  }

  /**
   * Numbers handed out in blocks from the {@code counters} table, never below what is already
   * stored (a store moved in from H2 has rows, but counters that start at 0).
   */
  private final class Block {
    private final String counter;
    private final String maxStored;
    private long next;
    private long end;

    Block(String counter, String maxStored) {
      this.counter = counter;
      this.maxStored = maxStored;
    }

    synchronized long next() {
      if (next >= end) {
        health.checkAvailable();
        long start = once(() -> jdbi.inTransaction(h -> {
          long value = h.createQuery("SELECT handed_out FROM counters WHERE name = :n FOR UPDATE")
              .bind("n", counter).mapTo(Long.class).one();
          long from = Math.max(value, h.createQuery(maxStored).mapTo(Long.class).one()) + 1;
          h.createUpdate("UPDATE counters SET handed_out = :v WHERE name = :n")
              .bind("v", from + BLOCK - 1).bind("n", counter).execute();
          return from;
        }));
        next = start;
        end = start + BLOCK;
      }
      return next++;
    }
  }

  public long maxOutboxId() {
    return read(h -> h.createQuery("SELECT COALESCE(MAX(id), 0) FROM outbox")
        .mapTo(Long.class).one());
  }

  /** A pending side effect. */
  public record OutboxEntry(long id, String jobId, String action, String payload) {}

  /**
   * The pending side effects this engine carries out: all of them on a sole engine; its own
   * (including those it took over with a stopped engine's jobs) when several share the store.
   */
  public List<OutboxEntry> outbox() {
    var engine = fence.engineId();
    return read(h -> {
      var query = h.createQuery("SELECT id, job_id, action, payload FROM outbox"
          + (engine == null ? "" : " WHERE engine_id = :engine") + " ORDER BY id");
      if (engine != null) {
        query.bind("engine", engine);
      }
      return query.map(JobStore::outboxEntry).list();
    });
  }

  private static OutboxEntry outboxEntry(ResultSet rs, StatementContext ctx) throws SQLException {
    return new OutboxEntry(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4));
  }

  /** The given pending side effects (clean-ups this engine took over with a stopped one's jobs). */
  public List<OutboxEntry> outbox(List<Long> ids) {
    var out = new ArrayList<OutboxEntry>();
    for (int i = 0; i < ids.size(); i += 1000) {
      var part = ids.subList(i, Math.min(ids.size(), i + 1000));
      out.addAll(read(h -> h.createQuery("SELECT id, job_id, action, payload FROM outbox WHERE"
          + " id IN (<ids>) ORDER BY id").bindList("ids", part).map(JobStore::outboxEntry)
          .list()));
    }
    return out;
  }

  /** Counts of jobs per state (for progress and health). */
  public java.util.Map<JobState, Long> countByState() {
    var out = new java.util.EnumMap<JobState, Long>(JobState.class);
    read(h -> h.createQuery("SELECT state, COUNT(*) FROM jobs GROUP BY state")
        .map((rs, ctx) -> java.util.Map.entry(JobState.valueOf(rs.getString(1)), rs.getLong(2)))
        .list()).forEach(e -> out.put(e.getKey(), e.getValue()));
    return out;
  }

  /** How many jobs are in a state with their current attempt on a cluster (null: none yet). */
  public record StateCount(JobState state, String cluster, long count) {}

  /** Jobs counted by state and by the cluster of their current attempt (for metrics). */
  public List<StateCount> countByStateAndCluster() {
    return jdbi.withHandle(h -> h.createQuery("SELECT j.state, a.cluster, COUNT(*) FROM jobs j"
        + " LEFT JOIN attempts a ON a.job_id = j.id AND a.attempt = j.attempt"
        + " GROUP BY j.state, a.cluster")
        .map((rs, ctx) -> new StateCount(JobState.valueOf(rs.getString(1)), rs.getString(2),
            rs.getLong(3))).list());
  }

  /** Asks the database a trivial question, giving up after {@code seconds} (for readiness). */
  public void ping(int seconds) {
    jdbi.useHandle(h -> h.createQuery("SELECT 1").setQueryTimeout(seconds).mapTo(Integer.class)
        .one());
  }

  private static JobRow job(ResultSet rs, StatementContext ctx) throws SQLException {
    return new JobRow(rs.getString("id"), rs.getLong("seq"), rs.getString("name"),
        rs.getString("owner"), rs.getString("session"), rs.getString("spec"),
        JobRow.Desired.valueOf(rs.getString("desired")), JobState.valueOf(rs.getString("state")),
        rs.getInt("attempt"), rs.getInt("cluster_index"), rs.getInt("retries_left"),
        (Integer) rs.getObject("exit_code", Integer.class), rs.getString("reason"),
        rs.getTimestamp("created_at").toInstant(), rs.getTimestamp("updated_at").toInstant());
  }

  private static AttemptRow attempt(ResultSet rs, StatementContext ctx) throws SQLException {
    return new AttemptRow(rs.getString("job_id"), rs.getInt("attempt"), rs.getString("cluster"),
        rs.getString("backend"), rs.getString("native_id"), rs.getString("native_state"),
        JobState.valueOf(rs.getString("state")), (Integer) rs.getObject("exit_code", Integer.class),
        rs.getString("reason"), rs.getString("attributes"),
        rs.getTimestamp("created_at").toInstant(), rs.getTimestamp("updated_at").toInstant(),
        instant(rs, "started_at"), instant(rs, "ended_at"));
  }

}
