package org.jobyard.plugins.condor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.jobyard.api.CommandResult;

/** Outputs recorded from a real HTCondor pool (see src/test/resources/condor-23.9/README.md). */
final class Recorded {
  private Recorded() {}

  static CommandResult condor(String name) {
    return new CommandResult(Integer.parseInt(read(name + ".rc").strip()), read(name + ".stdout"),
        read(name + ".stderr"));
  }

  private static String read(String file) {
    try (var in = Recorded.class.getClassLoader().getResourceAsStream("condor-23.9/" + file)) {
      if (in == null) {
        throw new IllegalArgumentException("no recording " + file);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
