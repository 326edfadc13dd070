package org.jobyard.testkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.jobyard.api.Capability;

/**
 * The kit against {@link FlawedBackend} with its current flaw. Not a test of its own (surefire
 * does not pick up this name): {@link TheKitCatchesEveryFlawTest} runs it.
 */
class FlawedBackendConformance extends BackendConformanceTest {

  @Override
  protected BackendFixture createFixture(Path tempDir) {
    return BackendFixture.builder(new FlawedBackend.Provider(), new ProcessTransport(), tempDir)
        .capabilities(FlawedBackend.CAPABILITIES.toArray(Capability[]::new))
        .timeout(Duration.ofSeconds(8)).walltime(Duration.ofSeconds(1))
        .refusedWhen(BackendFixture.nativeOptions("flawed", Map.of(FlawedBackend.REFUSE, "yes")))
        .build();
  }
}
