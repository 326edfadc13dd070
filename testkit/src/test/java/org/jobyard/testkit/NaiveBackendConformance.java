package org.jobyard.testkit;

import java.nio.file.Path;
import java.time.Duration;
import org.jobyard.api.Capability;

/**
 * The kit against {@link NaiveBackend}. Not a test of its own (surefire does not pick up this
 * name): {@link ConformanceKitTest} runs it and checks that it fails, and how.
 */
class NaiveBackendConformance extends BackendConformanceTest {

  @Override
  protected BackendFixture createFixture(Path tempDir) {
    return BackendFixture.builder(new NaiveBackend.Provider(), new ProcessTransport(), tempDir)
        .capabilities(Capability.BULK_SUBMIT, Capability.STEPS)
        .timeout(Duration.ofSeconds(10))
        .build();
  }
}
