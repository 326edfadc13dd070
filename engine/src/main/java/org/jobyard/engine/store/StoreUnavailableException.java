package org.jobyard.engine.store;

import org.jobyard.engine.service.Outage;

/**
 * The job store does not answer (the database is down or unreachable, its disk is full or
 * read-only). An expected condition, not a bug: callers answer "try again later", the engine
 * waits it out.
 */
public final class StoreUnavailableException extends StoreException implements Outage {
  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
