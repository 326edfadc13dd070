package org.jobyard.plugins.arc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendException;
import org.jobyard.api.Capability;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.manager.Cluster;
import org.jobyard.engine.manager.JobManager;
import org.jobyard.engine.store.Database;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoreWriter;
import org.jobyard.engine.transport.local.LocalTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine dies (its threads stop mid-call, as under SIGKILL) after A-REX took a job and before
 * the engine recorded it, or before it uploaded the job's inputs: the engine started again on the
 * same store finds the job by the tag in its name, finishes its uploads, and never submits it
 * twice.
 */
@Tag("testbed")
class ArcEngineCrashTest {
  /** The CE names of this class's jobs, removed after it. */
  private static final List<String> NAMES = new java.util.concurrent.CopyOnWriteArrayList<>();
  @TempDir Path home;
  final CountDownLatch never = new CountDownLatch(1);
  Thread managerThread;
  Thread writerThread;
  Database db;
  StoreWriter writer;

  @AfterAll
  static void removeJobs() {
    NAMES.forEach(ArcTestbed::removeJobs);
  }

  /** Hands the jobs to A-REX (uploading their inputs or not), then never answers. */
  final class DiesAfterSubmit implements Backend {
    final ArcBackend real;
    final boolean upload;

    DiesAfterSubmit(ArcBackend real, boolean upload) {
      this.real = real;
      this.upload = upload;
    }

    @Override
    public Set<Capability> capabilities() {
      return real.capabilities();
    }

    @Override
    public List<SubmitOutcome> submit(List<SubmitRequest> jobs) throws BackendException {
      if (upload) {
        real.submit(jobs);
      } else {
        try {
          real.client().submit(ArcJobDescription.bulk(jobs.stream()
              .map(r -> ArcJobDescription.of(r, null, null)).toList()));
        } catch (ArcClient.ArcException e) {
          throw new AssertionError(e);
        }
      }
      try {
        never.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      throw BackendException.unavailable("engine gone", null);
    }

    @Override
    public Map<String, JobStatus> poll(List<JobRef> jobs) throws BackendException {
      return real.poll(jobs);
    }

    @Override
    public void cancel(List<JobRef> jobs) throws BackendException {
      real.cancel(jobs);
    }

    @Override
    public Map<String, JobRef> lookup(List<SubmitRequest> attempts) throws BackendException {
      return real.lookup(attempts);
    }
  }

  ArcBackend arc() throws Exception {
    return ArcTestbed.backend(ArcTestbed.settings(), home.resolve("cluster"));
  }

  JobManager start(Backend backend) {
    db = new Database(org.jobyard.engine.config.ConfigLoader.defaults(home).database());
    var store = new JobStore(db);
    writer = new StoreWriter(store);
    var cluster = new Cluster("arc", "arc", backend, new LocalTransport(), 0,
        Duration.ofSeconds(1));
    var manager = new JobManager(store, writer, new EngineConfig.Tuning(Duration.ofSeconds(1),
        50, Duration.ofMinutes(5), Duration.ofSeconds(1)), List.of(cluster), List.of("arc"));
    writerThread = Thread.ofPlatform().start(writer);
    managerThread = Thread.ofPlatform().start(manager);
    await().until(manager::isReady);
    return manager;
  }

  void crash() throws Exception {
    managerThread.interrupt();
    managerThread.join(10_000);
    writerThread.interrupt();
    writerThread.join(10_000);
    db.close();
  }

  @AfterEach
  void release() {
    never.countDown();
  }

  @Test
  void aJobTakenByArexJustBeforeTheEngineDiedIsAdoptedNotSubmittedAgain() throws Exception {
    crashAfterSubmit(true, 4);
  }

  @Test
  void aJobWhoseInputsWereNotUploadedWhenTheEngineDiedGetsThemAndRuns() throws Exception {
    crashAfterSubmit(false, 6);
  }

  private void crashAfterSubmit(boolean upload, int exitCode) throws Exception {
    var client = ArcTestbed.client();
    var manager = start(new DiesAfterSubmit(arc(), upload));
    var spec = JobSpec.of("crash", "/bin/sh", "-c", "exit " + exitCode);
    var id = manager.submit(System.getProperty("user.name"), List.of(spec))
        .get(10, TimeUnit.SECONDS).getFirst();
    var name = ArcJobDescription.nameOf(id + ".1");
    NAMES.add(name);
    await().atMost(Duration.ofSeconds(60)).until(() -> ArcTestbed.jobsNamed(client, name)
        .containsKey(name));
    crash();

    var restarted = start(arc());
    var store = new JobStore(db);
    await().atMost(Duration.ofMinutes(2)).until(() ->
        store.job(id).orElseThrow().state() == JobState.FAILED);
    assertThat(store.job(id).orElseThrow().exitCode()).isEqualTo(exitCode);
    assertThat(ArcTestbed.jobsNamed(client, name).get(name)).as("jobs on the CE named %s", name)
        .hasSize(1);
    restarted.stop().get(30, TimeUnit.SECONDS);
    managerThread.join(10_000);
    writer.stop();
    writerThread.join(10_000);
    db.close();
  }
}
