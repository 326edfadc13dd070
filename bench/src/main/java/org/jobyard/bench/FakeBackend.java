package org.jobyard.bench;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendException;
import org.jobyard.api.BackendProvider;
import org.jobyard.api.Capability;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;

/**
 * A batch system that costs nothing (or a set delay): what is left of a run is the engine's own
 * cost. Stateless, so that it answers for jobs submitted before a SIGKILL: a job "runs" until
 * the time written into its attributes at submission ({@code ends}), then exits 0. Settings:
 * {@code run_ms} (how long each job runs, default 0), {@code end_all} (true: every job reported
 * as ended, for reconciliation after a crash), {@code submit_delay_ms} / {@code poll_delay_ms}
 * (a slow batch system: per call).
 */
public final class FakeBackend implements Backend {
  /** Counters over every fake cluster of this JVM, for the harnesses. */
  public static final AtomicLong SUBMIT_CALLS = new AtomicLong();
  public static final AtomicLong SUBMITTED = new AtomicLong();
  public static final AtomicLong POLL_CALLS = new AtomicLong();
  public static final AtomicLong POLLED_REFS = new AtomicLong();
  public static final AtomicLong LOOKUP_CALLS = new AtomicLong();
  /** System.nanoTime() at the start of each poll call, with the number of jobs asked about. */
  public static final ConcurrentLinkedQueue<long[]> POLL_LOG = new ConcurrentLinkedQueue<>();

  private final long runMillis;
  private final boolean endAll;
  private final long submitDelay;
  private final long pollDelay;

  FakeBackend(BackendContext context) throws ConfigurationException {
    var s = context.settings();
    this.runMillis = s.integer("run_ms", 0);
    this.endAll = s.bool("end_all", false);
    this.submitDelay = s.integer("submit_delay_ms", 0);
    this.pollDelay = s.integer("poll_delay_ms", 0);
  }

  public static void reset() {
    SUBMIT_CALLS.set(0);
    SUBMITTED.set(0);
    POLL_CALLS.set(0);
    POLLED_REFS.set(0);
    LOOKUP_CALLS.set(0);
    POLL_LOG.clear();
  }

  @Override
  public Set<Capability> capabilities() {
    return EnumSet.of(Capability.BULK_SUBMIT);
  }

  @Override
  public List<SubmitOutcome> submit(List<SubmitRequest> jobs) throws BackendException {
    SUBMIT_CALLS.incrementAndGet();
    sleep(submitDelay);
    var ends = Long.toString(System.currentTimeMillis() + runMillis);
    var out = new ArrayList<SubmitOutcome>(jobs.size());
    for (var j : jobs) {
      out.add(new SubmitOutcome.Accepted(new JobRef(j.jobId(), "fake-" + j.tag(),
          Map.of("ends", ends))));
    }
    SUBMITTED.addAndGet(jobs.size());
    return out;
  }

  @Override
  public Map<String, JobStatus> poll(List<JobRef> jobs) throws BackendException {
    POLL_LOG.add(new long[] {System.nanoTime(), jobs.size()});
    POLL_CALLS.incrementAndGet();
    POLLED_REFS.addAndGet(jobs.size());
    sleep(pollDelay);
    var now = System.currentTimeMillis();
    var out = new HashMap<String, JobStatus>(jobs.size() * 2);
    for (var j : jobs) {
      var ends = j.attribute("ends");
      if (endAll || ends == null || Long.parseLong(ends) <= now) {
        out.put(j.jobId(), new JobStatus.Exited(0, "DONE", null));
      } else {
        out.put(j.jobId(), new JobStatus.Running("RUN"));
      }
    }
    return out;
  }

  @Override
  public void cancel(List<JobRef> jobs) {}

  /** As if every attempt caught mid-submission had reached the batch system. */
  @Override
  public Map<String, JobRef> lookup(List<SubmitRequest> attempts) {
    LOOKUP_CALLS.incrementAndGet();
    var out = new HashMap<String, JobRef>();
    var ends = Long.toString(System.currentTimeMillis() + runMillis);
    for (var a : attempts) {
      out.put(a.jobId(), new JobRef(a.jobId(), "fake-" + a.tag(), Map.of("ends", ends)));
    }
    return out;
  }

  private static void sleep(long ms) throws BackendException {
    if (ms <= 0) {
      return;
    }
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw BackendException.unavailable("interrupted", e);
    }
  }

  /** Registered as backend {@code bench-fake} through the class path (bench jar). */
  public static final class Provider implements BackendProvider {
    @Override
    public String name() {
      return "bench-fake";
    }

    @Override
    public Backend create(BackendContext context) throws ConfigurationException {
      return new FakeBackend(context);
    }
  }
}
