package org.jobyard.plugins.condor;

import java.nio.file.Path;
import java.time.Duration;
import org.jobyard.api.Capability;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.BackendConformanceTest;
import org.jobyard.testkit.BackendFixture;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The conformance kit against the testbed's real HTCondor pool, with the engine on its access point. */
@Tag("testbed")
class CondorConformanceTest extends BackendConformanceTest {

  @Override
  protected BackendFixture createFixture(Path tempDir) {
    Testbed.require(Testbed.CONDOR);
    return fixture(BackendFixture.builder(new CondorBackendProvider(), new LocalTransport(),
        tempDir.resolve("cluster")), "conformance");
  }

  /** The testbed pool's settings: its tools, and job folders where its jobs can see them. */
  static BackendFixture fixture(BackendFixture.Builder builder, String folder) {
    return builder
        .setting("bin_dir", Testbed.get("CONDOR_BIN"))
        .setting("workdir", Testbed.get("CONDOR_WORK") + "/" + folder)
        // the testbed's wrappers submit as the unprivileged 'jobyard', the tests run as root
        .setting("shared_folders", "true")
        .capabilities(Capability.BULK_SUBMIT, Capability.HOLD_RELEASE, Capability.STAGING,
            Capability.LOG_ACCESS, Capability.STEPS, Capability.WALLTIME, Capability.DISK,
            Capability.STDIN, Capability.INHERIT_ENVIRONMENT)
        .timeout(Duration.ofSeconds(90))
        .walltime(Duration.ofSeconds(5))
        .build();
  }

  /**
   * The kit's payload writes into a scratch folder in the transport's home (root's, here), which
   * the testbed's jobs (the user 'jobyard', inside the pool's root on Debian 12) cannot write; the
   * same case runs in {@link CondorPoolTest} with a folder the jobs can reach.
   */
  @Override
  @Test
  public void aSubmitWhoseAnswerIsLostRunsTheJobOnce() {
    Assumptions.abort("skipped here: the kit's scratch folder is in root's home, which the "
        + "pool's jobs cannot write; CondorPoolTest covers a lost submit answer instead");
  }
}
