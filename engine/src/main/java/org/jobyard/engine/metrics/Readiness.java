package org.jobyard.engine.metrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jobyard.engine.Engine;

/**
 * Whether the engine can do its work, for {@code /readyz}: the store answers a trivial query
 * within {@link #STORE_SECONDS}, and at least one cluster answered its last call (an outage of
 * one cluster among several leaves the engine useful; with every cluster down it is not).
 *
 * @param ready whether both hold
 * @param checks {@code store} and {@code cluster:<name>}, each {@code ok} or {@code failing}
 */
public record Readiness(boolean ready, Map<String, String> checks) {
  static final int STORE_SECONDS = 2;

  public Readiness {
    checks = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(checks));
  }

  public static Readiness of(Engine engine) {
    var checks = new LinkedHashMap<String, String>();
    boolean store = storeAnswers(engine);
    checks.put("store", store ? "ok" : "failing");
    boolean anyCluster = engine.clusters().isEmpty();
    for (var c : engine.clusters()) {
      boolean ok = c.health().lastError() == null;
      anyCluster |= ok;
      checks.put("cluster:" + c.name(), ok ? "ok" : "failing");
    }
    boolean alive = !engine.fatal().isDone() && engine.manager().isReady();
    checks.put("engine", alive ? "ok" : "failing");
    return new Readiness(store && anyCluster && alive, checks);
  }

  /**
   * The store answers within the bound. The query runs on its own virtual thread: a pool waiting
   * for a connection to a database that has gone away must not hold the caller for 30 s.
   */
  static boolean storeAnswers(Engine engine) {
    var answer = CompletableFuture.runAsync(() -> engine.store().ping(STORE_SECONDS),
        r -> Thread.ofVirtual().name("store-ping").start(r));
    try {
      answer.get(STORE_SECONDS, TimeUnit.SECONDS);
      return true;
    } catch (ExecutionException | TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
