package org.jobyard.plugins.slurm;

import java.nio.file.Path;
import org.jobyard.engine.transport.ssh.SshSettings;
import org.jobyard.engine.transport.ssh.SshTransport;
import org.jobyard.testkit.BackendConformanceTest;
import org.jobyard.testkit.BackendFixture;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;

/**
 * The conformance kit against the testbed's real Slurm with the engine elsewhere: every command
 * and file goes through the pooled SSH transport, as the testbed's unprivileged user, and outputs
 * are fetched back over SFTP.
 */
@Tag("testbed")
class SlurmOverSshConformanceTest extends BackendConformanceTest {
  private static SshTransport transport;

  static synchronized SshTransport sshTransport() throws Exception {
    Testbed.require(Testbed.SSH);
    Testbed.require(Testbed.SLURM);
    if (transport == null) {
      transport = SshTransport.open(SshSettings.of(Testbed.get("SSH_HOST"),
              Testbed.get("SSH_USER"), Path.of(Testbed.get("SSH_IDENTITY")))
          .withPort(Integer.parseInt(Testbed.get("SSH_PORT")))
          .withKnownHosts(Path.of(Testbed.get("SSH_KNOWN_HOSTS"))));
    }
    return transport;
  }

  @Override
  protected BackendFixture createFixture(Path tempDir) throws Exception {
    return SlurmConformanceTest.fixture(BackendFixture.builder(new SlurmBackendProvider(),
            sshTransport(), tempDir.resolve("cluster"))
        // the default workdir (.jobyard/slurm under the remote home) is what users get
        .setting("workdir", ".jobyard/slurm-conformance"));
  }

  @AfterAll
  static synchronized void closeTransport() {
    if (transport != null) {
      transport.close();
      transport = null;
    }
  }

  @Override
  protected String transportIndependentCasesRunBy() {
    return "SlurmConformanceTest";
  }
}
