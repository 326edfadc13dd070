package org.jobyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobSpec;
import org.jobyard.api.SubmitRequest;
import org.junit.jupiter.api.Test;

class DiesAfterSubmitTest {
  private final List<SubmitRequest> jobs = List.of(new SubmitRequest("j1", 1,
      JobSpec.of("t", "true")));

  @Test
  void theSubmitStepRunsAndTheCallNeverAnswersUntilReleasedThenSaysUnavailable()
      throws Exception {
    var stepped = new CopyOnWriteArrayList<String>();
    var dying = new DiesAfterSubmit(new NaiveBackend(),
        batch -> batch.forEach(j -> stepped.add(j.jobId())));

    var call = CompletableFuture.supplyAsync(() -> {
      try {
        return dying.submit(jobs);
      } catch (BackendException e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    });
    org.awaitility.Awaitility.await().until(() -> stepped.equals(List.of("j1")));
    assertThat(call).as("the answer of a submit whose engine died").isNotDone();

    dying.release();
    assertThat(call).failsWithin(10, TimeUnit.SECONDS).withThrowableThat()
        .havingRootCause().isInstanceOfSatisfying(BackendException.class,
            e -> assertThat(e.isRetryable()).isTrue());
  }

  @Test
  void aStepThatFailsFailsTheTestLoudlyNotAsAnOutage() {
    var dying = new DiesAfterSubmit(new NaiveBackend(), batch -> {
      throw new java.io.IOException("no such CE");
    });

    assertThatThrownBy(() -> dying.submit(jobs)).isInstanceOf(AssertionError.class)
        .hasMessageContaining("no such CE");
  }
}
