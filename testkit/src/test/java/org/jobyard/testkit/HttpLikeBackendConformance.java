package org.jobyard.testkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.jobyard.api.Backend;
import org.jobyard.api.Capability;

/**
 * The kit against {@link FlawedBackend} reaching "its service" without the transport, as an HTTP
 * backend does: an unavailable transport does not stop it, so the outage is expressed by the
 * fixture through {@link #unavailableBackend()}. Run by {@link TheKitCatchesEveryFlawTest}.
 */
class HttpLikeBackendConformance extends BackendConformanceTest {
  /** Whether this fixture expresses the outage (off: the kit's transport-only default). */
  static volatile boolean expressesOutage = true;

  @Override
  protected BackendFixture createFixture(Path tempDir) {
    return BackendFixture.builder(new FlawedBackend.Provider(), new ProcessTransport(), tempDir)
        .setting("reach", "http")
        .capabilities(FlawedBackend.CAPABILITIES.toArray(Capability[]::new))
        .timeout(Duration.ofSeconds(8)).walltime(Duration.ofSeconds(1))
        .build();
  }

  /** The kit's hook for backends without a transport: "the service" loses its answers. */
  @Override
  protected AnswerLoss answerLoss() throws Exception {
    return AnswerLoss.of(newBackend(transport()), lose -> FlawedBackend.answersLost = lose);
  }

  @Override
  protected Backend unavailableBackend() throws Exception {
    return expressesOutage ? newBackend(transport(), Map.of("service", "down"))
        : super.unavailableBackend();
  }
}
