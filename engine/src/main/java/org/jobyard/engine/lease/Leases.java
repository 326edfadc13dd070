package org.jobyard.engine.lease;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jobyard.engine.store.Fence;

/**
 * What the rest of the engine sees of the leases: whether this engine shares its store with
 * others, and where a command goes. A kill, pause or resume of a job this engine owns goes to its
 * own job manager; one for a job another engine owns becomes a row in {@code commands}, which
 * the owner (or whoever takes its jobs over) carries out within a heartbeat.
 */
public final class Leases {
  /** Commands as stored. */
  public static final String KILL = "kill";
  public static final String PAUSE = "pause";
  public static final String RESUME = "resume";

  private final EngineLease lease;

  public Leases(Fence fence) {
    this.lease = fence instanceof EngineLease l ? l : null;
  }

  /** This engine's lease, when it is one of several engines on the store. */
  public Optional<EngineLease> lease() {
    return Optional.ofNullable(lease);
  }

  /**
   * The command for {@code jobIds} that this engine carries out itself; the rest are stored.
   * {@code claimed}: jobs of {@code here} that waited in the shared queue, now this engine's,
   * which its manager must adopt before it acts on them.
   */
  public record Routed(List<String> here, List<String> sent, List<String> claimed) {}

  public Routed route(String action, List<String> jobIds) {
    if (lease == null || jobIds.isEmpty()) {
      return new Routed(jobIds, List.of(), List.of());
    }
    // a job waiting in the shared queue has no owner to send the command to: this engine takes it
    var claimed = lease.claimQueued(jobIds);
    var owners = lease.owners(jobIds);
    var here = new ArrayList<String>();
    var sent = new ArrayList<String>();
    for (var id : jobIds) {
      var owner = owners.get(id);
      (owner == null || owner.equals(lease.engineId()) ? here : sent).add(id);
    }
    if (!sent.isEmpty()) {
      lease.send(action, sent);
    }
    return new Routed(here, sent, claimed);
  }
}
