package org.jobyard.plugins.condor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.jobyard.api.Capability;
import org.jobyard.api.Command;
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
 * file goes through the pooled SSH transport as the testbed's unprivileged user. Where HTCondor
 * is native (Debian 13) the tools are on that user's PATH; on Debian 12 the pool lives in a
 * Debian 13 root that only root can enter, and the user reaches it through the testbed's
 * wrappers (bin_dir), which a sudo rule written by {@code testbed up condor} lets it run as root
 * (its home is the same inside the root). Without that rule the test says so.
 */
@Tag("testbed")
class CondorOverSshConformanceTest extends BackendConformanceTest {
  private static SshTransport transport;

  @Override
  protected BackendFixture createFixture(Path tempDir) throws Exception {
    Testbed.require(Testbed.SSH);
    Testbed.require(Testbed.CONDOR);
    var bin = Path.of(Testbed.get("CONDOR_BIN"));
    var fixture = BackendFixture.builder(new CondorBackendProvider(), sshTransport(),
            tempDir.resolve("cluster"))
        // the default workdir (.jobyard/condor under the remote home) is what users get
        .setting("workdir", ".jobyard/condor-conformance");
    if (Files.isDirectory(bin.getParent().resolve("root/usr/sbin"))) {
      var probe = sshTransport().run(Command.of(bin.resolve("condor_q").toString(), "-totals"));
      Assumptions.assumeTrue(probe.succeeded(), "HTCondor over SSH is not tested on this "
          + "machine: the pool runs inside the Debian 13 root " + bin.getParent().resolve("root")
          + " and the testbed's SSH user cannot run its wrappers in " + bin + " ("
          + probe.summary() + "); 'testbed/testbed up condor' writes the sudo rule that lets it");
      fixture.setting("bin_dir", bin.toString());
    }
    return fixture
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
