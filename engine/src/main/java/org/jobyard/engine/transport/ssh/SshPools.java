package org.jobyard.engine.transport.ssh;

import java.util.HashMap;
import java.util.Map;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.TransportException;

/**
 * One SSH pool per host and account, shared by every cluster that reaches it: a login node limits
 * sessions per user, not per cluster, so two clusters on one host (two partitions, Slurm and
 * HTCondor side by side) must share the connections they may hold. Used while clusters are made,
 * from one thread.
 */
public final class SshPools {
  private final Map<Key, Shared> pools = new HashMap<>();

  private record Key(String host, int port, String user) {}

  private record Shared(String cluster, SshSettings settings, SshTransport transport) {}

  /**
   * The pool for the settings' host and account: opened for the first cluster reaching it, shared
   * (and closed by its last user) after that.
   *
   * @throws ConfigurationException when a cluster reaches an account already reached with other
   *     settings: one of them would be silently ignored
   */
  public SshTransport open(String cluster, SshSettings settings)
      throws TransportException, ConfigurationException {
    var key = new Key(settings.host(), settings.port(), settings.user());
    var shared = pools.get(key);
    if (shared == null) {
      var opened = SshTransport.open(settings);
      pools.put(key, new Shared(cluster, settings, opened));
      return opened;
    }
    if (!shared.settings().equals(settings)) {
      throw new ConfigurationException("reaches " + settings.user() + "@" + settings.host() + ":"
          + settings.port() + " like cluster '" + shared.cluster() + "' but with other settings; "
          + "clusters on one host and account share one SSH pool, so give them the same "
          + "transport block (cluster '" + shared.cluster() + "': " + shared.settings()
          + "; this one: " + settings + ")");
    }
    return shared.transport().share();
  }
}
