package org.jobyard.testkit;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendException;
import org.jobyard.api.Capability;
import org.jobyard.api.Condition;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobStatus;
import org.jobyard.api.LogStream;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;

/**
 * A backend that hands every call to another: a test overrides the one or two calls it watches
 * or breaks (counting cancels, failing them on cue) and the rest stays the real backend's.
 */
public class ForwardingBackend implements Backend {
  protected final Backend real;

  public ForwardingBackend(Backend real) {
    this.real = real;
  }

  @Override
  public Set<Capability> capabilities() {
    return real.capabilities();
  }

  @Override
  public List<SubmitOutcome> submit(List<SubmitRequest> jobs) throws BackendException {
    return real.submit(jobs);
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

  @Override
  public void hold(List<JobRef> jobs) throws BackendException {
    real.hold(jobs);
  }

  @Override
  public void release(List<JobRef> jobs) throws BackendException {
    real.release(jobs);
  }

  @Override
  public void resume(List<JobRef> jobs) throws BackendException {
    real.resume(jobs);
  }

  @Override
  public Optional<String> tail(JobRef job, LogStream stream, int lines) throws BackendException {
    return real.tail(job, stream, lines);
  }

  @Override
  public void collect(JobRef job, JobSpec spec) throws BackendException {
    real.collect(job, spec);
  }

  @Override
  public void clean(JobRef job) throws BackendException {
    real.clean(job);
  }

  @Override
  public OptionalInt slots() {
    return real.slots();
  }

  @Override
  public Optional<Duration> maintenanceInterval() {
    return real.maintenanceInterval();
  }

  @Override
  public List<Condition> maintain() throws BackendException {
    return real.maintain();
  }

  @Override
  public void close() {
    real.close();
  }
}
