package org.jobyard.plugins.local;

import java.nio.file.Path;
import java.time.Duration;
import org.jobyard.api.Capability;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.BackendConformanceTest;
import org.jobyard.testkit.BackendFixture;

/** The local backend passes the conformance kit through the engine's local transport. */
class LocalBackendConformanceTest extends BackendConformanceTest {

  @Override
  protected BackendFixture createFixture(Path tempDir) {
    return BackendFixture.builder(new LocalBackendProvider(), new LocalTransport(),
            tempDir.resolve("cluster"))
        .setting("kill-grace", "1s")
        .capabilities(Capability.BULK_SUBMIT, Capability.STEPS, Capability.WALLTIME,
            Capability.LOG_ACCESS, Capability.STAGING, Capability.STDIN,
            Capability.INHERIT_ENVIRONMENT)
        .timeout(Duration.ofSeconds(30))
        .walltime(Duration.ofSeconds(1))
        .build();
  }
}
