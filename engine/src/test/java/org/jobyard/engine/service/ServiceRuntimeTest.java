package org.jobyard.engine.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Supervised services: restarted with growing back-off, escalated when they keep failing. */
class ServiceRuntimeTest {

  /** Fails its first {@code failures} runs, then runs until stopped. */
  static final class Flaky implements Service {
    final int failures;
    final AtomicInteger runs = new AtomicInteger();
    final List<Long> startedAt = new CopyOnWriteArrayList<>();
    final CountDownLatch stop = new CountDownLatch(1);

    Flaky(int failures) {
      this.failures = failures;
    }

    @Override
    public String name() {
      return "flaky";
    }

    @Override
    public void run() throws Exception {
      startedAt.add(System.nanoTime());
      if (runs.incrementAndGet() <= failures) {
        throw new IllegalStateException("failure " + runs.get());
      }
      stop.await();
    }

    @Override
    public void stop() {
      stop.countDown();
    }
  }

  @Test
  void aFailingServiceIsRestartedWithGrowingBackOffAndShowsItsHealth() throws Exception {
    var fatal = new CopyOnWriteArrayList<String>();
    var service = new Flaky(2);
    try (var runtime = new ServiceRuntime(5, Duration.ofMinutes(1), fatal::add)) {
      runtime.start(service);

      await().atMost(Duration.ofSeconds(20)).until(() -> service.runs.get() == 3
          && runtime.health().getFirst().state().equals("running"));
      var health = runtime.health().getFirst();
      assertThat(health.restarts()).isEqualTo(2);
      assertThat(health.lastError()).contains("failure 2");
      assertThat(fatal).isEmpty();
      // the second restart waited longer than the first (200 ms, then 400 ms)
      var gaps = new ArrayList<Long>();
      for (int i = 1; i < service.startedAt.size(); i++) {
        gaps.add(service.startedAt.get(i) - service.startedAt.get(i - 1));
      }
      assertThat(gaps.get(0)).isGreaterThanOrEqualTo(Duration.ofMillis(200).toNanos());
      assertThat(gaps.get(1)).isGreaterThanOrEqualTo(Duration.ofMillis(400).toNanos());
    }
    assertThat(service.stop.getCount()).as("stopped when the runtime closed").isZero();
  }

  @Test
  void aServiceThatKeepsFailingStopsTheEngineInsteadOfLoopingForever() {
    var fatal = new CopyOnWriteArrayList<String>();
    var service = new Flaky(Integer.MAX_VALUE);
    try (var runtime = new ServiceRuntime(2, Duration.ofMinutes(1), fatal::add)) {
      runtime.start(service);

      await().atMost(Duration.ofSeconds(20)).until(() -> !fatal.isEmpty());
      assertThat(fatal).singleElement().asString().contains("service flaky failed 3 times")
          .contains("failure 3");
      assertThat(service.runs).as("no restart after the escalation").hasValue(3);
      assertThat(runtime.health().getFirst().state()).isEqualTo("failed");
    }
  }
}
