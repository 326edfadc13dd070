package org.jobyard.plugins.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.jobyard.api.BackendContext;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobStatus;
import org.jobyard.api.Settings;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.engine.transport.local.LocalTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trivial jobs per second through the backend alone (submit in batches, poll until all ended),
 * next to {@code xargs -P} running the same commands. Run with {@code -Djobyard.benchmark=true}.
 */
@EnabledIfSystemProperty(named = "jobyard.benchmark", matches = "true")
class LocalBackendThroughputTest {
  private static final int JOBS = Integer.getInteger("jobyard.benchmark.jobs", 2000);
  private static final int BATCH = Integer.getInteger("jobyard.benchmark.batch", 500);

  @TempDir Path tmp;

  @Test
  void runsTrivialJobsAboutAsFastAsXargs() throws Exception {
    var context = new BackendContext("bench", Settings.empty("bench"), new LocalTransport(),
        tmp.resolve("work"), BackendContext.Events.NONE);
    try (var backend = new LocalBackendProvider().create(context)) {
      var requests = IntStream.range(0, JOBS)
          .mapToObj(i -> new SubmitRequest("b" + i, 1, JobSpec.of("t", "true"))).toList();
      long t0 = System.nanoTime();
      var refs = new ArrayList<JobRef>();
      for (int i = 0; i < JOBS; i += BATCH) {
        for (var o : backend.submit(requests.subList(i, Math.min(JOBS, i + BATCH)))) {
          assertThat(o).isInstanceOf(SubmitOutcome.Accepted.class);
          refs.add(((SubmitOutcome.Accepted) o).job());
        }
      }
      long submitted = System.nanoTime();
      assertThat(refs).as("jobs accepted").hasSize(JOBS);
      var open = new AtomicReference<List<JobRef>>(refs);
      var polls = new AtomicInteger();
      var ends = new HashMap<String, JobStatus>();
      // bounded: a backend that never reports an end fails here instead of spinning forever
      await().atMost(Duration.ofMinutes(10)).pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(10)).until(() -> {
            var statuses = backend.poll(open.get());
            polls.incrementAndGet();
            statuses.forEach((id, s) -> {
              if (s instanceof JobStatus.Exited || s instanceof JobStatus.Failed
                  || s instanceof JobStatus.Cancelled) {
                ends.put(id, s);
              }
            });
            open.set(open.get().stream().filter(r -> !ends.containsKey(r.jobId())).toList());
            return open.get().isEmpty();
          });
      assertThat(ends.values()).as("every job ran 'true'").hasSize(JOBS)
          .allMatch(s -> s instanceof JobStatus.Exited e && e.exitCode() == 0);
      long done = System.nanoTime();
      double seconds = (done - t0) / 1e9;
      long x0 = System.nanoTime();
      var xargs = new ProcessBuilder("sh", "-c",
          "seq 1 " + JOBS + " | xargs -P 2 -n 1 sh -c 'true' x").inheritIO().start();
      assertThat(xargs.waitFor()).isZero();
      double xargsSeconds = (System.nanoTime() - x0) / 1e9;
      System.out.printf("%d jobs (batches of %d): submitted in %.2fs, all ended after %.2fs and"
          + " %d polls: %.0f jobs/s; xargs -P 2 sh -c true: %.2fs, %.0f jobs/s%n", JOBS, BATCH,
          (submitted - t0) / 1e9, seconds, polls.get(), JOBS / seconds, xargsSeconds,
          JOBS / xargsSeconds);
    }
  }
}
