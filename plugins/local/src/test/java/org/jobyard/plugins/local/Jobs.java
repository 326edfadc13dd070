package org.jobyard.plugins.local;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jobyard.api.JobSpec;
import org.jobyard.api.Resources;

/** Small builders for specs in tests. */
final class Jobs {
  private Jobs() {}

  static JobSpec.Step step(String executable, String... arguments) {
    return new JobSpec.Step(executable, List.of(arguments));
  }

  static JobSpec sh(String script) {
    return JobSpec.of("test", "sh", "-c", script);
  }

  static Builder spec(JobSpec.Step... steps) {
    return new Builder(List.of(steps));
  }

  /** Whether a process is running (a zombie is not). */
  static boolean isRunning(long pid) {
    try {
      var stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      var state = stat.substring(stat.lastIndexOf(')') + 2).charAt(0);
      return state != 'Z' && state != 'X';
    } catch (java.io.IOException e) {
      return false;
    }
  }

  static final class Builder {
    private final List<JobSpec.Step> steps;
    private Map<String, String> env = Map.of();
    private String directory;
    private String stdout;
    private String stderr;
    private Duration walltime;
    private List<JobSpec.FileTransfer> inputs = List.of();
    private List<JobSpec.FileTransfer> outputs = List.of();

    Builder(List<JobSpec.Step> steps) {
      this.steps = steps;
    }

    Builder env(Map<String, String> value) {
      env = value;
      return this;
    }

    Builder directory(String value) {
      directory = value;
      return this;
    }

    Builder stdout(Path value) {
      stdout = value.toString();
      return this;
    }

    Builder stderr(Path value) {
      stderr = value.toString();
      return this;
    }

    Builder walltime(Duration value) {
      walltime = value;
      return this;
    }

    Builder inputs(JobSpec.FileTransfer... value) {
      inputs = List.of(value);
      return this;
    }

    Builder outputs(JobSpec.FileTransfer... value) {
      outputs = List.of(value);
      return this;
    }

    JobSpec build() {
      return new JobSpec("test", null, null, steps, env, directory, stdout, stderr,
          new Resources(0, 0, walltime, 0, 0), null, null, inputs, outputs, List.of(), 0,
          Map.of());
    }
  }
}
