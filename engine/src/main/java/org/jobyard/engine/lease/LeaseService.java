package org.jobyard.engine.lease;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jobyard.engine.manager.JobManager;
import org.jobyard.engine.manager.ManagerStoppedException;
import org.jobyard.engine.manager.Overflow;
import org.jobyard.engine.service.Service;
import org.jobyard.engine.store.StoreHealth;
import org.jobyard.engine.store.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The heartbeat of an engine that shares its store: once a second it renews the lease, takes over
 * the live jobs no running engine holds (handing them to the job manager, which recovers them as
 * at a start), claims queued jobs from the shared queue for the clusters it has room for (work
 * shared out by capacity: {@code manager.Overflow} is the other half), and carries out the
 * commands other engines stored for its jobs. An engine that finds its lease taken over stops
 * ({@code onFenced}). While claims find jobs it beats ten times as often, so that an engine
 * working through a backlog in the shared queue does not wait a second between helpings.
 *
 * <p>After the database was away, every engine's lease may have run out at once: an engine takes
 * over other engines' jobs only once it has itself been connected for a whole lease since, so
 * that the others had the time to renew theirs (a database restart moves no job).
 */
public final class LeaseService implements Service {
  private static final Logger LOG = LoggerFactory.getLogger(LeaseService.class);
  static final long BEAT_MILLIS = 1000;
  static final long BUSY_BEAT_MILLIS = 100;
  private static final int CLAIM_AT_ONCE = 5000;

  private final EngineLease lease;
  private final JobManager manager;
  private final Consumer<String> onFenced;
  private final CountDownLatch stopped = new CountDownLatch(1);
  /** Stored commands handed to the manager, not yet answered. */
  private final java.util.Set<String> inFlight = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** When the database answered again after an outage (0: during one); start counts as long ago. */
  private long connectedSince = System.nanoTime() - Long.MAX_VALUE / 4;
  private boolean away;
  /** The last heartbeat claimed queued jobs: more may wait. */
  private boolean busy;
  /** The manager's turn count at the last claim: its stats must show what it adopted. */
  private long turnsAtClaim = -1;

  public LeaseService(EngineLease lease, JobManager manager, Consumer<String> onFenced) {
    this.lease = lease;
    this.manager = manager;
    this.onFenced = onFenced;
  }

  @Override
  public String name() {
    return "lease";
  }

  @Override
  public void run() throws InterruptedException {
    while (stopped.getCount() > 0) {
      if (!beat()) {
        return;
      }
      // the heartbeat's period, not a condition
      stopped.await(busy ? BUSY_BEAT_MILLIS : BEAT_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  /** One heartbeat; false when this engine was fenced and must stop. */
  boolean beat() {
    try {
      if (!lease.renew()) {
        var reason = lease.fenced().getMessage();
        LOG.error(reason);
        onFenced.accept(reason);
        return false;
      }
      if (away) {
        away = false;
        connectedSince = System.nanoTime();
        LOG.info("engine {} renewed its lease after the database was away",
            lease.engineId());
      }
      takeOver();
      claimQueued();
      carryOutCommands();
    } catch (StoreUnavailableException e) {
      noteAway(e);
    } catch (RuntimeException e) {
      if (!StoreHealth.isOutage(e)) {
        throw e;
      }
      noteAway(e);
    }
    return true;
  }

  private void noteAway(RuntimeException e) {
    if (!away) {
      LOG.warn("engine {} cannot renew its lease, the database does not answer: {}",
          lease.engineId(), e.getMessage());
    }
    away = true;
  }

  private void takeOver() {
    boolean expired = System.nanoTime() - connectedSince >= lease.ttl().toNanos();
    var claimed = lease.claim(CLAIM_AT_ONCE, expired);
    if (!claimed.isEmpty()) {
      LOG.info("engine {} took over {} live job(s) and {} clean-up(s)", lease.engineId(),
          claimed.jobs().size(), claimed.cleanUps().size());
      manager.adopt(claimed.jobs(), claimed.cleanUps());
    }
  }

  /**
   * Claims from the shared queue what this engine has room for: per cluster, up to what its
   * manager holds before it gives jobs away ({@code Overflow}), less what it runs and holds now.
   */
  private void claimQueued() {
    var stats = manager.stats();
    if (stats.turns() <= turnsAtClaim || !manager.isReady()) {
      busy = false;
      return; // the manager has not yet taken the last helping: its numbers are out of date
    }
    var room = new LinkedHashMap<String, Integer>();
    manager.clusters().forEach((name, c) -> {
      long free = Overflow.holds(c.limit()) - stats.liveByCluster().getOrDefault(name, 0)
          - stats.waitingByCluster().getOrDefault(name, 0);
      if (free > 0) {
        room.put(name, (int) Math.min(free, CLAIM_AT_ONCE));
      }
    });
    var claimed = lease.claimQueued(room);
    busy = !claimed.isEmpty();
    if (busy) {
      LOG.debug("engine {} claimed {} queued job(s) from the shared queue", lease.engineId(),
          claimed.size());
      turnsAtClaim = stats.turns();
      manager.adopt(claimed);
    }
  }

  /**
   * Hands the stored commands for this engine's jobs to its manager without waiting for it (the
   * heartbeat must never wait on a busy manager, or the lease would lapse); a command is
   * forgotten once the manager has acted on it or refused it, and kept for the next owner if the
   * manager stopped first.
   */
  private void carryOutCommands() {
    var commands = lease.commands().stream().filter(c -> !inFlight.contains(c.id())).toList();
    if (commands.isEmpty()) {
      return;
    }
    var byAction = new LinkedHashMap<String, List<EngineLease.Command>>();
    commands.forEach(c -> byAction.computeIfAbsent(c.action(), a -> new ArrayList<>()).add(c));
    for (var e : byAction.entrySet()) {
      var jobIds = e.getValue().stream().map(EngineLease.Command::jobId).toList();
      var ids = e.getValue().stream().map(EngineLease.Command::id).toList();
      var reply = switch (e.getKey()) {
        case Leases.KILL -> manager.cancel(jobIds);
        case Leases.PAUSE -> manager.pause(jobIds);
        case Leases.RESUME -> manager.resume(jobIds);
        default -> null;
      };
      if (reply == null) {
        LOG.warn("ignoring unknown stored command '{}' for {}", e.getKey(), jobIds);
        continue;
      }
      inFlight.addAll(ids);
      reply.whenCompleteAsync((done, error) -> {
        try {
          if (!(error instanceof ManagerStoppedException)) {
            lease.done(ids);
            LOG.info("carried out the stored {} of {} job(s){}", e.getKey(), jobIds.size(),
                error == null ? "" : " (refused: " + error.getMessage() + ")");
          }
        } catch (RuntimeException notNow) {
          LOG.warn("could not mark stored commands done; they are carried out again (kill, "
              + "pause and resume are idempotent): {}", notNow.getMessage());
        } finally {
          ids.forEach(inFlight::remove);
        }
      }, Thread.ofVirtual().name("lease-commands")::start);
    }
  }

  @Override
  public void stop() {
    stopped.countDown();
  }
}
