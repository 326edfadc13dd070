package org.jobyard.engine.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.store.Database;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreWriter;
import org.jobyard.engine.transport.local.LocalTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The supervisor restarts a failed job manager; the restarted one takes commands again. */
class ManagerRestartTest {
  @TempDir Path home;

  @Test
  void aJobManagerRestartedAfterAFailureAcceptsSubmissionsAgain() throws Exception {
    var db = new Database(ConfigLoader.defaults(home).database());
    var store = new JobStore(db);
    var writer = new StoreWriter(store);
    var cluster = new Cluster("fake", "fake", new FakeBackend(), new LocalTransport(), 0,
        Duration.ofMillis(50));
    var manager = new JobManager(store, writer, new EngineConfig.Tuning(Duration.ofMillis(50),
        100, Duration.ofSeconds(2), Duration.ofMillis(100)), List.of(cluster), List.of("fake"));
    var writerThread = Thread.ofPlatform().start(writer);
    var first = Thread.ofPlatform().start(manager);
    await().until(manager::isReady);
    first.interrupt(); // its loop ends as after a failure
    first.join(10_000);

    var second = Thread.ofPlatform().start(manager); // what ServiceRuntime does next
    await().until(manager::isReady);
    var id = manager.submit("alice", List.of(JobSpec.of("again", "ok"))).get(10,
        TimeUnit.SECONDS).getFirst();

    await().atMost(Duration.ofSeconds(10)).until(() ->
        store.job(id).orElseThrow().state() == JobState.SUCCEEDED);
    manager.stop().get(30, TimeUnit.SECONDS);
    second.join(10_000);
    writer.stop();
    writerThread.join(10_000);
    db.close();
  }
}
