package org.jobyard.plugins.slurm;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.jobyard.api.CommandResult;

/**
 * Outputs recorded from real Slurms, the same commands on the same jobs (see
 * src/test/resources/slurm-22.05/README.md and slurm-24.11/README.md).
 */
enum Recorded {
  SLURM_22_05("slurm-22.05", "JobLaunchFailure"),
  /** Recorded by slurm-24.11/record.sh, which maps the 22.05 job ids in ids.properties. */
  SLURM_24_11("slurm-24.11", "Killed");

  private final String folder;
  private final String killedBy9;

  Recorded(String folder, String killedBy9) {
    this.folder = folder;
    this.killedBy9 = killedBy9;
  }

  /** The recording {@code name}: its exit code, stdout and stderr. */
  CommandResult get(String name) {
    return new CommandResult(Integer.parseInt(read(folder + "/" + name + ".rc").strip()),
        read(folder + "/" + name + ".stdout"), read(folder + "/" + name + ".stderr"));
  }

  /** The id this Slurm gave the job the 22.05 recordings call {@code id2205}. */
  String id(String id2205) {
    if (this == SLURM_22_05) {
      return id2205;
    }
    var ids = new Properties();
    try {
      ids.load(new StringReader(read(folder + "/ids.properties")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    var id = ids.getProperty(id2205);
    if (id == null) {
      throw new IllegalArgumentException(folder + "/ids.properties maps no job " + id2205);
    }
    return id;
  }

  /**
   * How the status of the job that ran {@code kill -9 $$} ends: its reason, JobLaunchFailure in
   * 22.05, RaisedSignal:9(Killed) in 24.11, which the backend shortens to the signal's name.
   */
  String killedBy9() {
    return killedBy9;
  }

  private static String read(String resource) {
    try (var in = Recorded.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalArgumentException("no recording " + resource);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
