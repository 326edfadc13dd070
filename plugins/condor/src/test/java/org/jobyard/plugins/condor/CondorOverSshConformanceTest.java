package org.jobyard.plugins.condor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.jobyard.api.Capability;
import org.jobyard.engine.transport.ssh.SshSettings;
import org.jobyard.engine.transport.ssh.SshTransport;
import org.jobyard.testkit.BackendConformanceTest;
import org.jobyard.testkit.BackendFixture;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;

/**
 * The conformance kit against the testbed's pool with the engine elsewhere: every command and
 * file goes through the pooled SSH transport as the testbed's unprivileged user, whose PATH has
 * the HTCondor tools. Runs where HTCondor is native (Debian 13); on Debian 12 the pool lives in
 * a Debian 13 root that only root can enter, so the SSH user cannot reach it, and the test says so.
 */
@Tag("testbed")
class CondorOverSshConformanceTest extends BackendConformanceTest {
  private static SshTransport transport;

  @Override
  protected BackendFixture createFixture(Path tempDir) throws Exception {
    Testbed.require(Testbed.SSH);
    Testbed.require(Testbed.CONDOR);
    var root = Path.of(Testbed.get("CONDOR_BIN")).getParent().resolve("root");
    Assumptions.assumeFalse(Files.isDirectory(root.resolve("usr/sbin")), "HTCondor over SSH is "
        + "not tested on this machine: the pool runs inside the Debian 13 root " + root
        + " (this host's Debian has no HTCondor), which only root can enter, and the testbed's "
        + "SSH user cannot; on Debian 13, where HTCondor is native, this test runs");
    return BackendFixture.builder(new CondorBackendProvider(), sshTransport(),
            tempDir.resolve("cluster"))
        // the default workdir (.jobyard/condor under the remote home) is what users get
        .setting("workdir", ".jobyard/condor-conformance")
        .capabilities(Capability.BULK_SUBMIT, Capability.HOLD_RELEASE, Capability.STAGING,
            Capability.LOG_ACCESS, Capability.STEPS, Capability.WALLTIME, Capability.DISK,
            Capability.STDIN, Capability.INHERIT_ENVIRONMENT)
        .timeout(Duration.ofSeconds(90))
        .walltime(Duration.ofSeconds(5))
        .build();
  }

  private static synchronized SshTransport sshTransport() throws Exception {
    if (transport == null) {
      transport = SshTransport.open(SshSettings.of(Testbed.get("SSH_HOST"),
              Testbed.get("SSH_USER"), Path.of(Testbed.get("SSH_IDENTITY")))
          .withPort(Integer.parseInt(Testbed.get("SSH_PORT")))
          .withKnownHosts(Path.of(Testbed.get("SSH_KNOWN_HOSTS"))));
    }
    return transport;
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
    return "CondorConformanceTest";
  }
}
