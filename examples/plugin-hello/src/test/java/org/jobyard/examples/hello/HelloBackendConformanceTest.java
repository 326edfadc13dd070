package org.jobyard.examples.hello;

import java.nio.file.Path;
import java.time.Duration;
import org.jobyard.api.Capability;
import org.jobyard.testkit.BackendConformanceTest;
import org.jobyard.testkit.BackendFixture;
import org.jobyard.testkit.ProcessTransport;

/**
 * The hello backend passes the conformance kit on this machine, through the kit's own transport
 * (no engine needed). The kit skips the tests of what it does not declare (here: walltime).
 */
class HelloBackendConformanceTest extends BackendConformanceTest {

  @Override
  protected BackendFixture createFixture(Path tempDir) {
    return BackendFixture.builder(new HelloBackendProvider(), new ProcessTransport(), tempDir)
        // explicit, because the kit also creates the backend with a transport to a cluster that is
        // down, which shares no filesystem with the engine (so 'workdir' has no default there)
        .setting("workdir", tempDir.resolve("jobs").toAbsolutePath().toString())
        .capabilities(Capability.STEPS)
        .timeout(Duration.ofSeconds(20))
        .build();
  }
}
