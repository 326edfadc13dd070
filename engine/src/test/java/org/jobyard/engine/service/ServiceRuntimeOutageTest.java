package org.jobyard.engine.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.jobyard.engine.store.StoreUnavailableException;
import org.junit.jupiter.api.Test;

/** The supervisor restarts failing services; it stops the engine for bugs, not for outages. */
class ServiceRuntimeOutageTest {

  /** Fails {@code failures} times with what {@code failure} makes, then runs until stopped. */
  static Service failing(int failures, Runnable failure, AtomicInteger runs) {
    var stopped = new CountDownLatch(1);
    return new Service() {
      @Override
      public String name() {
        return "flaky";
      }

      @Override
      public void run() {
        if (runs.incrementAndGet() <= failures) {
          failure.run();
        }
        try {
          stopped.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }

      @Override
      public void stop() {
        stopped.countDown();
      }
    };
  }

  @Test
  void aDependencyOutageIsWaitedOutHoweverOftenItFails() {
    var fatal = new CompletableFuture<String>();
    var runs = new AtomicInteger();
    try (var runtime = new ServiceRuntime(1, Duration.ofMinutes(5), fatal::complete)) {
      runtime.start(failing(3, () -> {
        throw new StoreUnavailableException("store unavailable: database down", null);
      }, runs));

      await().atMost(Duration.ofSeconds(30)).until(() -> runs.get() == 4);
      assertThat(fatal).as("three outages with a limit of one restart").isNotDone();
      assertThat(runtime.health()).singleElement()
          .satisfies(h -> assertThat(h.state()).isEqualTo("running"));
    }
  }

  @Test
  void aServiceThatKeepsFailingForABugStopsTheEngine() {
    var fatal = new CompletableFuture<String>();
    var runs = new AtomicInteger();
    try (var runtime = new ServiceRuntime(1, Duration.ofMinutes(5), fatal::complete)) {
      runtime.start(failing(3, () -> {
        throw new IllegalStateException("a bug");
      }, runs));

      await().atMost(Duration.ofSeconds(30)).until(fatal::isDone);
      assertThat(fatal.join()).contains("service flaky failed 2 times").contains("a bug");
    }
  }
}
