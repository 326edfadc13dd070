package org.jobyard.plugins.slurm;

import java.util.Map;
import org.jobyard.api.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;

/** {@link SlurmBackendTest} over the pooled SSH transport, as the testbed's unprivileged user. */
@Tag("testbed")
class SlurmOverSshTest extends SlurmBackendTest {
  @Override
  Transport transport() throws Exception {
    return SlurmOverSshConformanceTest.sshTransport();
  }

  @Override
  Map<String, String> settings() {
    return Map.of(); // the default workdir: .jobyard/slurm under the remote home
  }

  @AfterAll
  static void close() {
    SlurmOverSshConformanceTest.closeTransport();
  }
}
