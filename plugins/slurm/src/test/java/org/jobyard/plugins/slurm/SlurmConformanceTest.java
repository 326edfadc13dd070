package org.jobyard.plugins.slurm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jobyard.api.Backend;
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
            Capability.LOG_ACCESS, Capability.STEPS, Capability.WALLTIME, Capability.PROCESSES,
            Capability.EXCLUSIVE, Capability.RESERVATION, Capability.DISK, Capability.STDIN,
            Capability.INHERIT_ENVIRONMENT)
        .timeout(Duration.ofSeconds(60))
        .walltime(Duration.ofMinutes(1))
        // sbatch itself refuses a feature no node has ("Invalid feature specification")
        .refusedWhen(BackendFixture.nativeOptions("slurm",
            Map.of("constraint", "jobyard-no-such-feature")))
        .build();
  }

  /**
   * Slurm lists an ended job for MinJobAge (300 s on the testbed): too long to wait, so the
   * backend gets a bin_dir whose squeue lists nothing and whose scontrol knows no job, as after
   * MinJobAge; sbatch, sacct and scancel are the real ones.
   */
  @Override
  protected Backend backendAfterTheQueueForgot() throws Exception {
    var bin = Files.createDirectories(engineDir.resolve("forgetful-bin"));
    write(bin.resolve("squeue"), "exit 0");
    write(bin.resolve("scontrol"), "echo 'slurm_load_jobs error: Invalid job id specified' >&2\n"
        + "exit 1");
    for (var tool : List.of("sbatch", "sacct", "scancel")) {
      write(bin.resolve(tool), "exec " + tool + " \"$@\"");
    }
    return newBackend(transport(), Map.of("bin_dir", bin.toAbsolutePath().toString()));
  }

  private static void write(Path script, String body) throws Exception {
    Files.writeString(script, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
  }
}
