package org.jobyard.engine.lease;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jobyard.engine.store.Fence;
import org.jobyard.engine.store.FencedException;
import org.jobyard.engine.store.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This engine's lease among several engines on one PostgreSQL database: its row in {@code
 * engines}, renewed by the heartbeat ({@link LeaseService}), and every SQL statement about who owns
 * which job. The engine's id is new at every start and is the fencing token: an engine whose lease
 * ran out loses its row to the engine that takes its jobs over, and every write transaction checks
 * the row first ({@link #check}), so a fenced engine cannot write, and so cannot submit or cancel
 * (intent is committed before a batch system sees it). Times are the database's clock.
 */
public final class EngineLease implements Fence {
  private static final Logger LOG = LoggerFactory.getLogger(EngineLease.class);
  static final String NOW_MS = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";
  private static final String LIVE = "state NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED')";

  private final Jdbi jdbi;
  private final String id;
  private final Duration ttl;
  private final String host;
  private final String home;

  /** A new engine's lease, not yet registered ({@link #register}). */
  public EngineLease(Jdbi jdbi, Duration ttl, String host, String home) {
    if (ttl.toMillis() < 1000) {
      throw new IllegalArgumentException("database.lease: " + ttl + " is too short; at least 1s");
    }
    this.jdbi = jdbi;
    this.ttl = ttl;
    this.host = host;
    this.home = home;
    this.id = UUID.randomUUID().toString();
  }

  /**
   * Takes the lease for {@link #ttl} from now: when the engine starts, right before its heartbeat
   * (not when it is wired, which may be long before on a loaded machine).
   */
  public void register() {
    jdbi.useTransaction(h -> {
      // an earlier engine of this same home (killed, then started again) is this one's past:
      // its jobs are taken over at once instead of after its lease (and a second engine started
      // on the same home by mistake is fenced, so the two never act on the same jobs)
      for (var earlier : h.createQuery("SELECT id FROM engines WHERE host = :host AND home ="
          + " :home FOR UPDATE").bind("host", clip(host)).bind("home", clip(home))
          .mapTo(String.class).list()) {
        h.createUpdate("DELETE FROM engines WHERE id = :id").bind("id", earlier).execute();
        LOG.info("engine {} replaces the earlier engine {} of {}; it takes over its live jobs",
            id, earlier, home);
      }
      h.createUpdate("INSERT INTO engines (id, host, home, lease_until_ms,"
        + " started_ms) VALUES (:id, :host, :home, " + NOW_MS + " + :ttl, " + NOW_MS + ")")
        .bind("id", id).bind("host", clip(host)).bind("home", clip(home))
        .bind("ttl", ttl.toMillis()).execute();
    });
    LOG.info("engine {} on {} joined the shared store (lease {}s)", id, host, ttl.toSeconds());
  }

  @Override
  public String engineId() {
    return id;
  }

  public Duration ttl() {
    return ttl;
  }

  /**
   * A write needs the lease with a third of it left: what the write makes happen next (a submit
   * after its intent is committed) then still happens inside the lease, before anyone else can
   * take the job. The share lock makes a takeover wait for writes in flight, and them for it.
   */
  @Override
  public void check(Handle h) {
    var left = h.createQuery("SELECT lease_until_ms - " + NOW_MS + " FROM engines WHERE id = :id"
        + " FOR SHARE").bind("id", id).mapTo(Long.class).findOne();
    if (left.isEmpty()) {
      throw fenced();
    }
    if (left.get() < ttl.toMillis() / 3) {
      throw new StoreUnavailableException("the lease of engine " + id + " has "
          + Math.max(0, left.get()) + " ms left (the database was away, or this engine stood "
          + "still): its writes wait until its heartbeat renews it", null);
    }
  }

  FencedException fenced() {
    return new FencedException("engine " + id + " lost its lease: it did not renew it for "
        + ttl.toSeconds() + "s and another engine took its jobs over; this engine writes "
        + "nothing more and stops (start it again to take on new work)");
  }

  /** Extends the lease; false when it is gone (taken over: this engine is fenced). */
  boolean renew() {
    return jdbi.withHandle(h -> h.createUpdate("UPDATE engines SET lease_until_ms = " + NOW_MS
        + " + :ttl WHERE id = :id").bind("ttl", ttl.toMillis()).bind("id", id).execute()) == 1;
  }

  /** Ends the lease at an orderly stop, so that another engine takes the live jobs at once. */
  public void release() {
    jdbi.useHandle(h -> h.createUpdate("UPDATE engines SET lease_until_ms = 0 WHERE id = :id")
        .bind("id", id).execute());
  }

  /** What a takeover claimed: live jobs and pending clean-ups (outbox entries). */
  public record Claimed(List<String> jobs, List<Long> cleanUps) {
    public boolean isEmpty() {
      return jobs.isEmpty() && cleanUps.isEmpty();
    }
  }

  /**
   * Claims live jobs that no running engine holds, up to {@code max}, in one transaction: jobs
   * with no owner (a store moved in from H2; not those waiting in the shared queue, see {@link
   * #claimQueued}), and, if {@code expired}, the jobs and clean-ups of engines whose lease ran
   * out, whose rows it deletes (fencing them). SKIP LOCKED: two engines claiming at once share
   * the work out instead of waiting for each other.
   */
  public Claimed claim(int max, boolean expired) {
    return jdbi.inTransaction(h -> {
      checkRow(h);
      if (expired) {
        var dead = h.createQuery("SELECT id, host, home FROM engines WHERE id <> :id AND"
            + " lease_until_ms < " + NOW_MS + " FOR UPDATE SKIP LOCKED").bind("id", id)
            .map((rs, ctx) -> List.of(rs.getString(1), rs.getString(2), rs.getString(3)))
            .list();
        for (var d : dead) {
          h.createUpdate("DELETE FROM engines WHERE id = :id").bind("id", d.get(0)).execute();
          LOG.warn("engine {} ({} on {}) did not renew its lease: taking its live jobs over",
              d.get(0), d.get(2), d.get(1));
        }
      }
      var ids = h.createQuery("SELECT j.id FROM jobs j WHERE j." + LIVE + " AND ((j.engine_id"
          + " IS NULL AND j.pooled_for IS NULL)" + (expired ? " OR (j.engine_id IS NOT NULL"
              + " AND NOT EXISTS (SELECT 1 FROM engines e WHERE e.id = j.engine_id))" : "")
          + ") ORDER BY j.seq LIMIT :max FOR UPDATE SKIP LOCKED")
          .bind("max", max).mapTo(String.class).list();
      own(h, ids);
      // clean-ups with no running owner: a stopped engine's, or moved in from H2
      var cleanUps = h.createQuery("SELECT o.id FROM outbox o WHERE o.engine_id IS NULL"
          + (expired ? " OR NOT EXISTS (SELECT 1 FROM engines e WHERE e.id = o.engine_id)" : "")
          + " ORDER BY o.id LIMIT :max FOR UPDATE SKIP LOCKED").bind("max", max)
          .mapTo(Long.class).list();
      if (!cleanUps.isEmpty()) {
        h.createUpdate("UPDATE outbox SET engine_id = :id WHERE id IN (<ids>)").bind("id", id)
            .bindList("ids", cleanUps).execute();
      }
      return new Claimed(ids, cleanUps);
    });
  }

  /**
   * Claims queued jobs from the shared queue (released by engines that cannot run them soon),
   * oldest first, up to the given number per cluster: what this engine has room for.
   */
  public List<String> claimQueued(java.util.Map<String, Integer> roomByCluster) {
    if (roomByCluster.isEmpty()) {
      return List.of();
    }
    return jdbi.inTransaction(h -> {
      checkRow(h);
      var out = new java.util.ArrayList<String>();
      for (var room : roomByCluster.entrySet()) {
        var ids = h.createQuery("SELECT id FROM jobs WHERE pooled_for = :cluster AND engine_id"
            + " IS NULL AND state = 'QUEUED' ORDER BY seq LIMIT :max FOR UPDATE SKIP LOCKED")
            .bind("cluster", room.getKey()).bind("max", room.getValue())
            .mapTo(String.class).list();
        own(h, ids);
        out.addAll(ids);
      }
      return out;
    });
  }

  /** Which of the given jobs wait in the shared queue: claimed at once, to act on them here. */
  List<String> claimQueued(List<String> jobIds) {
    var out = new java.util.ArrayList<String>();
    for (int i = 0; i < jobIds.size(); i += 1000) {
      var part = jobIds.subList(i, Math.min(jobIds.size(), i + 1000));
      out.addAll(jdbi.inTransaction(h -> {
        checkRow(h);
        var ids = h.createQuery("SELECT id FROM jobs WHERE id IN (<ids>) AND pooled_for IS NOT"
            + " NULL AND engine_id IS NULL AND state = 'QUEUED' FOR UPDATE SKIP LOCKED")
            .bindList("ids", part).mapTo(String.class).list();
        own(h, ids);
        return ids;
      }));
    }
    return out;
  }

  /** A claim needs this engine's row, not a lease margin: it acts on nothing outside the store. */
  private void checkRow(Handle h) {
    if (h.createQuery("SELECT id FROM engines WHERE id = :id FOR SHARE").bind("id", id)
        .mapTo(String.class).findOne().isEmpty()) {
      throw fenced();
    }
  }

  private void own(Handle h, List<String> jobIds) {
    if (!jobIds.isEmpty()) {
      h.createUpdate("UPDATE jobs SET engine_id = :id, pooled_for = NULL WHERE id IN (<ids>)")
          .bind("id", id).bindList("ids", jobIds).execute();
    }
  }

  /** An engine sharing the store, as the health report shows it. */
  public record Peer(String id, String host, String home, long leaseLeftMillis, long liveJobs) {}

  /** Every engine registered on the store, this one included, with its live jobs. */
  public List<Peer> peers() {
    return jdbi.withHandle(h -> h.createQuery("SELECT e.id, e.host, e.home, e.lease_until_ms - "
        + NOW_MS + " AS lease_left, (SELECT COUNT(*) FROM jobs j WHERE j.engine_id = e.id AND"
        + " j." + LIVE + ") AS live FROM engines e ORDER BY e.started_ms")
        .map((rs, ctx) -> new Peer(rs.getString(1), rs.getString(2), rs.getString(3),
            rs.getLong(4), rs.getLong(5))).list());
  }

  /** A command for a job another engine owns: kill, pause or resume. */
  record Command(String id, String jobId, String action) {}

  /** Which engine owns each of the given live jobs (jobs with no owner are left out). */
  java.util.Map<String, String> owners(List<String> jobIds) {
    var out = new java.util.HashMap<String, String>();
    for (int i = 0; i < jobIds.size(); i += 1000) {
      var part = jobIds.subList(i, Math.min(jobIds.size(), i + 1000));
      jdbi.useHandle(h -> h.createQuery("SELECT id, engine_id FROM jobs WHERE id IN (<ids>)"
          + " AND engine_id IS NOT NULL AND " + LIVE).bindList("ids", part)
          .map((rs, ctx) -> java.util.Map.entry(rs.getString(1), rs.getString(2)))
          .forEach(e -> out.put(e.getKey(), e.getValue())));
    }
    return out;
  }

  /** Stores commands for jobs owned elsewhere, in one transaction. */
  void send(String action, List<String> jobIds) {
    jdbi.useTransaction(h -> {
      var batch = h.prepareBatch("INSERT INTO commands (id, job_id, action, created_at)"
          + " VALUES (:id, :job, :action, CURRENT_TIMESTAMP)");
      for (var job : jobIds) {
        batch.bind("id", UUID.randomUUID().toString()).bind("job", job).bind("action", action)
            .add();
      }
      batch.execute();
    });
  }

  /** Commands waiting for jobs this engine owns, oldest first. */
  List<Command> commands() {
    return jdbi.withHandle(h -> h.createQuery("SELECT c.id, c.job_id, c.action FROM commands c"
        + " JOIN jobs j ON j.id = c.job_id WHERE j.engine_id = :id ORDER BY c.created_at, c.id")
        .bind("id", id).map((rs, ctx) -> new Command(rs.getString(1), rs.getString(2),
            rs.getString(3))).list());
  }

  /**
   * Forgets commands carried out, and those whose job ended before its owner took them. A command
   * whose job this engine released to the shared queue while the command was on its way (the
   * manager no longer held it) is kept: it goes with the job to the engine that claims it.
   */
  void done(List<String> commandIds) {
    jdbi.useTransaction(h -> {
      if (!commandIds.isEmpty()) {
        h.createUpdate("DELETE FROM commands WHERE id IN (<ids>) AND job_id NOT IN (SELECT id"
            + " FROM jobs WHERE pooled_for IS NOT NULL AND engine_id IS NULL)")
            .bindList("ids", commandIds).execute();
      }
      h.createUpdate("DELETE FROM commands WHERE job_id IN (SELECT id FROM jobs WHERE NOT ("
          + LIVE + "))").execute();
    });
  }

  private static String clip(String s) {
    return s.length() <= 255 ? s : s.substring(s.length() - 255);
  }
}
