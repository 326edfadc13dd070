package org.jobyard.testkit;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendException;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;

/**
 * A backend whose submit reaches the batch system and whose answer never comes back: the real
 * backend submits (or a {@link SubmitStep} of the test's does only part of a submit), then the
 * call hangs until {@link #release()} (the engine "dies" between the submission and its record).
 * Everything else goes to the real backend, so an engine started again on the same store can
 * look the jobs up.
 */
public final class DiesAfterSubmit extends ForwardingBackend {
  /** What reaches the batch system before the engine dies. */
  @FunctionalInterface
  public interface SubmitStep {
    void submit(List<SubmitRequest> jobs) throws Exception;
  }

  private final SubmitStep step;
  private final CountDownLatch never = new CountDownLatch(1);

  /** Dies after the real backend's whole submit. */
  public DiesAfterSubmit(Backend real) {
    this(real, real::submit);
  }

  /**
   * Dies after {@code step}, e.g. a submit that stops before uploading the jobs' inputs; a step
   * that fails fails the test's submit loudly (as an {@link AssertionError}), not as an outage.
   */
  public DiesAfterSubmit(Backend real, SubmitStep step) {
    super(requireNonNull(real, "real is null"));
    this.step = requireNonNull(step, "step is null");
  }

  /** Lets a hanging submit call end (with "unavailable"), for the end of a test. */
  public void release() {
    never.countDown();
  }

  @Override
  public List<SubmitOutcome> submit(List<SubmitRequest> jobs) throws BackendException {
    try {
      step.submit(jobs);
    } catch (BackendException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new AssertionError("the test's submit step failed: " + e.getMessage(), e);
    }
    try {
      never.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    throw BackendException.unavailable("engine gone", null);
  }
}
