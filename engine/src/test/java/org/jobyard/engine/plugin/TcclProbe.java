package org.jobyard.engine.plugin;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendProvider;
import org.jobyard.api.Capability;
import org.jobyard.api.Condition;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;

/**
 * A plugin (packed into its own folder by the test, backend name {@code tccl-probe}) that looks
 * things up through the thread's context class loader, as Jackson, BouncyCastle or a plain
 * {@code ServiceLoader.load(type)} do, and says in its answers what it found there.
 */
public final class TcclProbe implements Backend {

  /** The provider, listed in the plugin jar's services file only. */
  public static final class Provider implements BackendProvider {
    @Override
    public String name() {
      return "tccl-probe";
    }

    @Override
    public Backend create(BackendContext context) throws ConfigurationException {
      var seen = whatTheContextLoaderSees();
      if (!seen.startsWith("own loader")) {
        throw new ConfigurationException("create ran under another loader: " + seen);
      }
      return new TcclProbe();
    }
  }

  /** The context loader (own or not) and the providers a TCCL-based ServiceLoader finds. */
  static String whatTheContextLoaderSees() {
    var tccl = Thread.currentThread().getContextClassLoader();
    var names = new ArrayList<String>();
    ServiceLoader.load(BackendProvider.class).forEach(p -> names.add(p.name()));
    String marker;
    try {
      // only the plugin's jar holds this class as the plugin's own
      marker = Class.forName(TcclProbe.class.getName(), false, tccl) == TcclProbe.class
          ? "same class" : "another copy";
    } catch (ClassNotFoundException e) {
      marker = "not found";
    }
    return (tccl == TcclProbe.class.getClassLoader() ? "own loader" : "loader " + tccl)
        + "; Class.forName: " + marker + "; ServiceLoader: " + names;
  }

  @Override
  public Set<Capability> capabilities() {
    return Set.of();
  }

  @Override
  public List<SubmitOutcome> submit(List<SubmitRequest> jobs) {
    return List.of();
  }

  @Override
  public Map<String, JobStatus> poll(List<JobRef> jobs) {
    var out = new HashMap<String, JobStatus>();
    jobs.forEach(j -> out.put(j.jobId(), new JobStatus.Unknown(whatTheContextLoaderSees())));
    return out;
  }

  @Override
  public void cancel(List<JobRef> jobs) {}

  @Override
  public Map<String, JobRef> lookup(List<SubmitRequest> attempts) {
    return Map.of();
  }

  @Override
  public Optional<Duration> maintenanceInterval() {
    return Optional.of(Duration.ofMinutes(1));
  }

  @Override
  public List<Condition> maintain() {
    return List.of(Condition.ok("loader", whatTheContextLoaderSees()));
  }
}
