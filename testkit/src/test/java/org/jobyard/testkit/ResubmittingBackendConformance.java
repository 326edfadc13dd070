package org.jobyard.testkit;

import java.nio.file.Path;
import java.time.Duration;
import org.jobyard.api.Capability;

/** The kit against {@link ResubmittingBackend}; run by {@link LostAnswerKitTest}, not by itself. */
class ResubmittingBackendConformance extends BackendConformanceTest {

  @Override
  protected BackendFixture createFixture(Path tempDir) {
    return BackendFixture.builder(new ResubmittingBackend.Provider(), new ProcessTransport(),
        tempDir).capabilities(Capability.STEPS).timeout(Duration.ofSeconds(10)).build();
  }
}
