package org.jobyard.engine.store;

/**
 * This engine's lease was taken over by another engine: every job it held now belongs to that
 * one, so it must not write, submit or cancel anything any more; the engine stops.
 */
public final class FencedException extends StoreException {
  public FencedException(String message) {
    super(message, null);
  }
}
