package org.jobyard.engine.service;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts, watches and stops the engine's services. A service whose loop throws is restarted after
 * a growing pause; more than {@code maxRestarts} failures within {@code window} is fatal: the
 * runtime calls its fatal handler, which stops the engine in order. Services stop in the reverse
 * order of registration.
 */
public final class ServiceRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceRuntime.class);

  private final int maxRestarts;
  private final Duration window;
  private final Consumer<String> onFatal;
  private final List<Supervised> services = new CopyOnWriteArrayList<>();
  private volatile boolean stopping;

  /** What {@code backends}/health shows of a service. */
  public record Health(String name, String state, int restarts, String lastError) {}

  public ServiceRuntime(int maxRestarts, Duration window, Consumer<String> onFatal) {
    this.maxRestarts = maxRestarts;
    this.window = window;
    this.onFatal = onFatal;
  }

  /** Starts the service on its own thread, watched. */
  public void start(Service service) {
    var s = new Supervised(service);
    services.add(s);
    s.thread = Thread.ofPlatform().name("service-" + service.name()).start(s::loop);
  }

  public List<Health> health() {
    var out = new ArrayList<Health>();
    for (var s : services) {
      out.add(new Health(s.service.name(), s.state, s.failures.size(), s.lastError));
    }
    return out;
  }

  /** Stops every service, last started first, each waiting for its work to finish. */
  @Override
  public void close() {
    stopping = true;
    var reversed = new ArrayList<>(services);
    java.util.Collections.reverse(reversed);
    for (var s : reversed) {
      try {
        s.service.stop();
      } catch (RuntimeException e) {
        LOG.warn("service {} did not stop cleanly: {}", s.service.name(), e.toString());
      }
      try {
        s.thread.join(Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (s.thread.isAlive()) {
        LOG.warn("service {} still running after 30s; leaving it", s.service.name());
        s.thread.interrupt();
      }
    }
  }

  /** Whether the failure is a dependency's outage (see {@link Outage}) rather than a bug. */
  static boolean isOutage(Throwable e) {
    for (var t = e; t != null; t = t.getCause()) {
      if (t instanceof Outage) {
        return true;
      }
    }
    return false;
  }

  /** The back-off itself, not a wait for a condition; false when interrupted. */
  private static boolean pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
      return true;
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private final class Supervised {
    final Service service;
    final List<Instant> failures = new ArrayList<>();
    volatile String state = "starting";
    volatile String lastError;
    Thread thread;

    Supervised(Service service) {
      this.service = service;
    }

    void loop() {
      var backoff = Duration.ofMillis(200);
      var outageBackoff = Duration.ofMillis(500);
      while (!stopping) {
        state = "running";
        try {
          service.run();
          state = "stopped";
          return;
        } catch (Throwable e) {
          if (stopping) {
            state = "stopped";
            return;
          }
          lastError = e.toString();
          if (isOutage(e)) {
            // a dependency is away: wait it out, this is not the service's fault
            state = "waiting";
            LOG.warn("service {} waits for a dependency: {}", service.name(), e.getMessage());
            if (!pause(outageBackoff)) {
              return;
            }
            outageBackoff = outageBackoff.multipliedBy(2).compareTo(Duration.ofSeconds(10)) > 0
                ? Duration.ofSeconds(10) : outageBackoff.multipliedBy(2);
            continue;
          }
          outageBackoff = Duration.ofMillis(500);
          var now = Instant.now();
          failures.add(now);
          failures.removeIf(t -> t.isBefore(now.minus(window)));
          LOG.error("service {} failed ({} time(s) in {}): {}", service.name(), failures.size(),
              window, e.toString(), e);
          if (failures.size() > maxRestarts) {
            state = "failed";
            onFatal.accept("service " + service.name() + " failed " + failures.size()
                + " times in " + window.toSeconds() + "s; last error: " + e);
            return;
          }
          state = "restarting";
          if (!pause(backoff)) {
            return;
          }
          backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(30)) > 0
              ? Duration.ofSeconds(30) : backoff.multipliedBy(2);
        }
      }
      state = "stopped";
    }
  }
}
