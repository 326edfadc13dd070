package org.jobyard.plugins.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jobyard.api.BackendContext;
import org.jobyard.api.Command;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.Settings;
import org.jobyard.engine.transport.ssh.SshSettings;
import org.jobyard.engine.transport.ssh.SshTransport;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Over SSH, a job cancelled in the instant before the runner set up its output has a folder but
 * no stdout or stderr: collecting it brings home nothing and does not fail (the kit's early-cancel
 * case met this only by chance, once in a CI run).
 */
@Tag("testbed")
class LocalOverSshCollectTest {
  @TempDir
  Path tmp;

  @Test
  void aJobFolderWithoutOutputIsCollectedWithoutFailing() throws Exception {
    Testbed.require(Testbed.SSH);
    try (var transport = SshTransport.open(SshSettings.of(Testbed.get("SSH_HOST"),
            Testbed.get("SSH_USER"), Path.of(Testbed.get("SSH_IDENTITY")))
        .withPort(Integer.parseInt(Testbed.get("SSH_PORT")))
        .withKnownHosts(Path.of(Testbed.get("SSH_KNOWN_HOSTS"))))) {
      var workdir = ".jobyard/collect-" + Long.toHexString(System.nanoTime());
      var dir = workdir + "/jy-nooutput.1";
      assertThat(transport.run(Command.of("mkdir", "-p", dir)).exitCode()).isZero();
      var context = new BackendContext("ssh-local", new Settings("cluster 'ssh-local'",
          Map.of("workdir", workdir)), transport, tmp.resolve("cluster"),
          BackendContext.Events.NONE);
      try (var backend = new LocalBackendProvider().create(context)) {
        var out = tmp.resolve("never.out");
        var spec = new JobSpec("never", null, null,
            List.of(new JobSpec.Step("sleep", List.of("600"))), Map.of(), null, out.toString(),
            tmp.resolve("never.err").toString(), null, null, null, List.of(), List.of(),
            List.of(), 0, Map.of());
        var job = new JobRef("jy-nooutput", "jy-nooutput.1",
            Map.of("dir", dir, "tag", "jy-nooutput.1"));

        backend.collect(job, spec);

        assertThat(out).doesNotExist();
      } finally {
        transport.run(Command.of("rm", "-rf", "--", workdir));
      }
    }
  }
}
