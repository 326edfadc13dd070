package org.jobyard.plugins.slurm;

import org.jobyard.api.Transport;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Tag;

/** {@link SlurmBackendTest} with the engine on the submit host. */
@Tag("testbed")
class SlurmLocalTest extends SlurmBackendTest {
  @Override
  Transport transport() {
    Testbed.require(Testbed.SLURM);
    return new LocalTransport();
  }
}
