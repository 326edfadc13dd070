package org.jobyard.engine.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.jobyard.api.JobSpec;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.store.Database;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreWriter;
import org.jobyard.engine.transport.local.LocalTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 21's fair-share case through the job manager: one cluster, two slots, two users. */
class FairShareOnTwoSlotsTest {
  @TempDir
  Path home;

  @Test
  void theSecondUsersTwentyJobsFinishInTheFirstRoundsNotAfterTheFirstUsersTwoThousand()
      throws Exception {
    var tuning = new EngineConfig.Tuning(Duration.ofMillis(20), 100, Duration.ofSeconds(30),
        Duration.ofMillis(100));
    var db = new Database(ConfigLoader.defaults(home).database());
    var store = new JobStore(db);
    var writer = new StoreWriter(store);
    var cluster = new Cluster("two-slots", "fake", new FakeBackend(), new LocalTransport(), 2,
        Duration.ofMillis(20));
    var manager = new JobManager(store, writer, tuning, List.of(cluster), List.of("two-slots"));
    var finished = new ConcurrentLinkedQueue<String>(); // owners, in the order their jobs ended
    manager.addListener(e -> {
      if (e.to().isTerminal()) {
        finished.add(e.owner());
      }
    });
    var writerThread = Thread.ofPlatform().start(writer);
    var managerThread = Thread.ofPlatform().start(manager);
    try {
      await().until(manager::isReady);
      manager.submit("alice", IntStream.range(0, 2000).mapToObj(i -> JobSpec.of("a" + i, "ok"))
          .toList()).get(60, TimeUnit.SECONDS);
      manager.submit("bob", IntStream.range(0, 20).mapToObj(i -> JobSpec.of("b" + i, "ok"))
          .toList()).get(60, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(90)).until(() ->
          finished.stream().filter("bob"::equals).count() == 20);
      var order = List.copyOf(finished);
      var lastOfBob = order.lastIndexOf("bob");
      // in strict alternation bob's 20th job is about the 41st to end; FIFO would make it the
      // 2,020th. Generous: jobs already in the slots when bob arrived, and ends polled together.
      assertThat(lastOfBob).as("position of bob's last job among the ended: %s", order)
          .isLessThan(60);
      assertThat(order.subList(0, lastOfBob + 1)).filteredOn("alice"::equals)
          .hasSizeBetween(15, 40);
    } finally {
      manager.stop().get(30, TimeUnit.SECONDS);
      managerThread.join(10_000);
      writer.stop();
      writerThread.join(10_000);
      db.close();
    }
  }
}
