package org.jobyard.testkit;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.jobyard.api.BackendProvider;
import org.jobyard.api.Capability;
import org.jobyard.api.JobSpec;
import org.jobyard.api.Settings;
import org.jobyard.api.Transport;

/**
 * What a backend needs to run the conformance kit: its provider, the settings and transport of a
 * cluster it can use, and what it claims to support.
 *
 * @param provider the plugin's entry point, as the engine finds it
 * @param settings the cluster's settings
 * @param transport how to reach the cluster's submit host
 * @param workDir the cluster's folder on the engine's machine
 * @param capabilities what the backend declares; the kit checks the backend says the same, and
 *     skips the tests of anything not declared
 * @param timeout how long a trivial job may take from submit to its end on this cluster
 * @param walltime the shortest walltime the batch system enforces (Slurm counts in minutes)
 * @param refused turns a plain job into one the batch system itself refuses (an unknown
 *     partition, a feature no node has), for the bulk-submit case; null skips that case
 */
public record BackendFixture(BackendProvider provider, Settings settings, Transport transport,
    Path workDir, Set<Capability> capabilities, Duration timeout, Duration walltime,
    UnaryOperator<JobSpec> refused) {

  public BackendFixture {
    requireNonNull(provider, "provider is null");
    requireNonNull(settings, "settings is null");
    requireNonNull(transport, "transport is null");
    requireNonNull(workDir, "workDir is null");
    capabilities = capabilities.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(capabilities));
    requireNonNull(timeout, "timeout is null");
    requireNonNull(walltime, "walltime is null");
  }

  /**
   * For {@link Builder#refusedWhen}: the same job with the given native options for one backend,
   * e.g. {@code nativeOptions("slurm", Map.of("constraint", "no-such-feature"))}.
   */
  public static UnaryOperator<JobSpec> nativeOptions(String backend, Map<String, String> options) {
    return s -> new JobSpec(s.name(), s.session(), s.user(), s.steps(), s.environment(),
        s.directory(), s.stdout(), s.stderr(), s.resources(), s.queue(), s.account(),
        s.inputFiles(), s.outputFiles(), s.clusters(), s.retries(), Map.of(backend, options));
  }

  public static Builder builder(BackendProvider provider, Transport transport, Path workDir) {
    return new Builder(provider, transport, workDir);
  }

  /** Defaults: no settings, no capabilities, 60 s per job, a 2 s walltime. */
  public static final class Builder {
    private final BackendProvider provider;
    private final Transport transport;
    private final Path workDir;
    private final Map<String, String> settings = new HashMap<>();
    private Set<Capability> capabilities = Set.of();
    private Duration timeout = Duration.ofSeconds(60);
    private Duration walltime = Duration.ofSeconds(2);
    private UnaryOperator<JobSpec> refused;

    private Builder(BackendProvider provider, Transport transport, Path workDir) {
      this.provider = provider;
      this.transport = transport;
      this.workDir = workDir;
    }

    public Builder setting(String key, String value) {
      settings.put(key, value);
      return this;
    }

    public Builder capabilities(Capability... declared) {
      capabilities = Set.of(declared);
      return this;
    }

    public Builder timeout(Duration value) {
      timeout = value;
      return this;
    }

    public Builder walltime(Duration value) {
      walltime = value;
      return this;
    }

    /**
     * How to make a job the batch system refuses (not Jobyard's own checks), e.g. a native
     * option naming a feature no node has.
     */
    public Builder refusedWhen(UnaryOperator<JobSpec> spoil) {
      refused = spoil;
      return this;
    }

    public BackendFixture build() {
      return new BackendFixture(provider, new Settings("cluster 'conformance'", settings),
          transport, workDir, capabilities, timeout, walltime, refused);
    }
  }
}
