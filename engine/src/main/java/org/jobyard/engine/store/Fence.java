package org.jobyard.engine.store;

import org.jdbi.v3.core.Handle;

/**
 * Which jobs this engine may write. The only engine of its store (H2, or PostgreSQL used by one
 * engine the old way) writes every job; one engine among several on PostgreSQL writes only the
 * jobs it owns, and only while it holds its lease (org.jobyard.engine.lease).
 */
public interface Fence {
  /** The store's only engine: no owner column, no lease, every job its own. */
  Fence SOLE = new Fence() {
    @Override
    public String engineId() {
      return null;
    }

    @Override
    public void check(Handle handle) {}
  };

  /** This engine's id, written as the owner of the jobs it writes; null for {@link #SOLE}. */
  String engineId();

  /**
   * Called first in every write transaction. Throws {@link FencedException} when another engine
   * took this engine's jobs over (it must stop acting), or {@link StoreUnavailableException} when
   * its lease lapsed but is still its own (the heartbeat renews it; the write is tried again).
   */
  void check(Handle handle);
}
