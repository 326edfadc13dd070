package org.jobyard.engine.cli;

import java.nio.file.Path;
import java.util.List;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobSpec.FileTransfer;

/** Makes a job's paths on the engine's machine absolute, relative to the submitting folder. */
final class Paths {
  private Paths() {}

  static JobSpec resolve(JobSpec s, Path base) {
    var dir = s.directory() == null ? null : abs(base, s.directory());
    List<FileTransfer> inputs = s.inputFiles().stream()
        .map(f -> new FileTransfer(abs(base, f.source()), f.destination())).toList();
    List<FileTransfer> outputs = s.outputFiles().stream()
        .map(f -> new FileTransfer(f.source(), abs(base, f.destination()))).toList();
    return new JobSpec(s.name(), s.session(), s.user(), s.steps(), s.environment(), dir,
        s.stdout() == null ? null : abs(base, s.stdout()),
        s.stderr() == null ? null : abs(base, s.stderr()), s.resources(), s.queue(), s.account(),
        inputs, outputs, s.clusters(), s.retries(), s.nativeOptions());
  }

  private static String abs(Path base, String p) {
    if (p.startsWith("~/")) {
      return Path.of(System.getProperty("user.home"), p.substring(2)).toString();
    }
    return base.toAbsolutePath().resolve(p).normalize().toString();
  }
}
