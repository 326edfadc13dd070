package org.jobyard.plugins.slurm;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.Backend;
import org.jobyard.api.Capability;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.BackendConformanceTest;
import org.jobyard.testkit.BackendFixture;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * The conformance kit against the testbed's real Slurm (22.05 on Debian 12, the system Slurm
 * 24.11 on Debian 13), with the engine on the submit host; {@link Slurm2411ConformanceTest} runs it
 * against 24.11 on Debian 12.
 */
@Tag("testbed")
class SlurmConformanceTest extends BackendConformanceTest {

  @BeforeAll
  static void sayWhichSlurmRuns() throws Exception {
    if (Testbed.has(Testbed.SLURM)) {
      System.out.println("SlurmConformanceTest: the kit against " + slurmVersion("sbatch"));
    }
  }

  /** What {@code sbatch --version} prints, e.g. {@code slurm-wlm 22.05.8}. */
  static String slurmVersion(String sbatch) throws Exception {
    var p = new ProcessBuilder(sbatch, "--version").redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("'" + sbatch + " --version' failed: " + out);
    }
    return out;
  }

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
    return newBackend(transport(), Map.of("bin_dir", forgetfulBin(engineDir, "")));
  }

  /**
   * A bin_dir in {@code dir} whose squeue and scontrol know no job, as after MinJobAge, and whose
   * other tools are {@code toolPrefix + tool} (the PATH's for an empty prefix).
   */
  static String forgetfulBin(Path dir, String toolPrefix) throws Exception {
    var bin = Files.createDirectories(dir.resolve("forgetful-bin"));
    write(bin.resolve("squeue"), "exit 0");
    write(bin.resolve("scontrol"), "echo 'slurm_load_jobs error: Invalid job id specified' >&2\n"
        + "exit 1");
    for (var tool : List.of("sbatch", "sacct", "scancel")) {
      write(bin.resolve(tool), "exec " + toolPrefix + tool + " \"$@\"");
    }
    return bin.toAbsolutePath().toString();
  }

  private static void write(Path script, String body) throws Exception {
    Files.writeString(script, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
  }
}
