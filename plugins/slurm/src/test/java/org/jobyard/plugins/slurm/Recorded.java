package org.jobyard.plugins.slurm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.jobyard.api.CommandResult;

/** Outputs recorded from a real Slurm (see src/test/resources/slurm-22.05/README.md). */
final class Recorded {
  private Recorded() {}

  static CommandResult slurm2205(String name) {
    return new CommandResult(Integer.parseInt(read("slurm-22.05/" + name + ".rc").strip()),
        read("slurm-22.05/" + name + ".stdout"), read("slurm-22.05/" + name + ".stderr"));
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
