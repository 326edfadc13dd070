package org.jobyard.plugins.slurm;

import java.nio.file.Path;
import java.time.Duration;
import org.jobyard.api.Capability;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.BackendConformanceTest;
import org.jobyard.testkit.BackendFixture;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Tag;

/** The conformance kit against the testbed's real Slurm, with the engine on the submit host. */
@Tag("testbed")
class SlurmConformanceTest extends BackendConformanceTest {

  @Override
  protected BackendFixture createFixture(Path tempDir) {
    Testbed.require(Testbed.SLURM);
    return fixture(BackendFixture.builder(new SlurmBackendProvider(), new LocalTransport(),
        tempDir.resolve("cluster")));
  }

  /** What both transports share: Slurm enforces walltimes in whole minutes. */
  static BackendFixture fixture(BackendFixture.Builder builder) {
    return builder
        .setting("partition", Testbed.find("SLURM_PARTITION").orElse("debug"))
        .capabilities(Capability.BULK_SUBMIT, Capability.HOLD_RELEASE, Capability.STAGING,
            Capability.LOG_ACCESS, Capability.STEPS, Capability.WALLTIME)
        .timeout(Duration.ofSeconds(60))
        .walltime(Duration.ofMinutes(1))
        .build();
  }
}
