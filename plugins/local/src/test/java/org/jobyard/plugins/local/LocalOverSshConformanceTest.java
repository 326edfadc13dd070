package org.jobyard.plugins.local;

import java.nio.file.Path;
import java.time.Duration;
import org.jobyard.api.Capability;
import org.jobyard.engine.transport.ssh.SshSettings;
import org.jobyard.engine.transport.ssh.SshTransport;
import org.jobyard.testkit.BackendConformanceTest;
import org.jobyard.testkit.BackendFixture;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;

/**
 * The same local backend, unchanged, running plain processes on another host through the pooled
 * SSH transport (the testbed's sshd, as its unprivileged user): drunc's SSH process manager.
 */
@Tag("testbed")
class LocalOverSshConformanceTest extends BackendConformanceTest {
  private static SshTransport transport;

  @Override
  protected BackendFixture createFixture(Path tempDir) throws Exception {
    Testbed.require(Testbed.SSH);
    synchronized (LocalOverSshConformanceTest.class) {
      if (transport == null) {
        transport = SshTransport.open(SshSettings.of(Testbed.get("SSH_HOST"),
                Testbed.get("SSH_USER"), Path.of(Testbed.get("SSH_IDENTITY")))
            .withPort(Integer.parseInt(Testbed.get("SSH_PORT")))
            .withKnownHosts(Path.of(Testbed.get("SSH_KNOWN_HOSTS"))));
      }
    }
    return BackendFixture.builder(new LocalBackendProvider(), transport,
            tempDir.resolve("cluster"))
        // a folder of its own per test class run, under the remote user's home
        .setting("workdir", ".jobyard/conformance-" + Long.toHexString(System.nanoTime()))
        .setting("kill-grace", "1s")
        .capabilities(Capability.BULK_SUBMIT, Capability.STEPS, Capability.WALLTIME,
            Capability.LOG_ACCESS, Capability.STAGING, Capability.STDIN,
            Capability.INHERIT_ENVIRONMENT)
        .timeout(Duration.ofSeconds(30))
        .walltime(Duration.ofSeconds(1))
        .build();
  }

  @AfterAll
  static void closeTransport() {
    if (transport != null) {
      transport.close();
      transport = null;
    }
  }
}
