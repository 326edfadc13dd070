package org.jobyard.plugins.slurm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import org.jobyard.api.Backend;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.Transport;
import org.jobyard.api.TransportException;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.BackendConformanceTest;
import org.jobyard.testkit.BackendFixture;
import org.jobyard.testkit.CountingTransport;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * The conformance kit against Slurm 24.11 (the testbed's slurm24 service): on Debian 12 it runs
 * in the trixie root, and the plugin reaches it through the testbed's wrappers ({@code bin_dir});
 * job folders go to the work folder the root shares at the same path. On Debian 13 the system
 * Slurm is 24.11 and {@link SlurmConformanceTest} has already run it, so this suite stands down.
 */
@Tag("testbed")
class Slurm2411ConformanceTest extends BackendConformanceTest {
  /** This run's job folders, under the folder the root shares; deleted at the end. */
  private static Path workdir;

  @BeforeAll
  static void checkTheVersion() throws Exception {
    Testbed.require(Testbed.SLURM24);
    Assumptions.assumeFalse(Testbed.has("SLURM24_NATIVE"), "skipped: the system Slurm is 24.11, "
        + "which SlurmConformanceTest runs the kit against");
    var version = SlurmConformanceTest.slurmVersion(bin() + "/sbatch");
    System.out.println("Slurm2411ConformanceTest: the kit against " + version + " through "
        + bin());
    assertThat(version).as("sbatch --version of the testbed's slurm24 service")
        .matches(".* 24\\.11\\.\\d+.*");
    var shared = Path.of(Testbed.get("SLURM24_WORK"));
    // a cancelled job may still write its folder after a run deleted it: sweep old runs' folders
    try (var runs = Files.newDirectoryStream(shared, "kit-*")) {
      var old = FileTime.from(Instant.now().minus(Duration.ofHours(1)));
      for (var run : runs) {
        if (Files.getLastModifiedTime(run).compareTo(old) < 0) {
          delete(run);
        }
      }
    }
    workdir = Files.createDirectories(shared.resolve("kit-"
        + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt())));
  }

  @AfterAll
  static void deleteTheJobFolders() throws IOException {
    if (workdir != null) {
      delete(workdir);
    }
  }

  private static void delete(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static String bin() {
    return Testbed.get("SLURM24_BIN");
  }

  @Override
  protected BackendFixture createFixture(Path tempDir) {
    return SlurmConformanceTest.fixture(BackendFixture.builder(new SlurmBackendProvider(),
            new SharedHome(new LocalTransport(), workdir.toString()), tempDir.resolve("cluster"))
        .setting("bin_dir", bin())
        .setting("workdir", workdir.toString()));
  }

  @Override
  protected Backend backendAfterTheQueueForgot() throws Exception {
    return newBackend(transport(), Map.of("bin_dir",
        SlurmConformanceTest.forgetfulBin(engineDir, bin() + "/")));
  }

  /**
   * The local transport with HOME in the folder the root shares: the kit leaves files for jobs
   * under the submit host's $HOME, as on a cluster whose nodes mount the homes, but jobs in the
   * root do not see the host's /root. (A CountingTransport only to forward the other calls.)
   */
  private static final class SharedHome extends CountingTransport {
    private final String home;

    SharedHome(Transport delegate, String home) {
      super(delegate);
      this.home = home;
    }

    private Command withHome(Command command) {
      var env = new HashMap<>(command.environment());
      env.put("HOME", home);
      return command.withEnvironment(env);
    }

    @Override
    public CommandResult run(Command command) throws TransportException {
      return super.run(withHome(command));
    }

    @Override
    public CompletableFuture<CommandResult> start(Command command) throws TransportException {
      return super.start(withHome(command));
    }
  }
}
