package org.jobyard.plugins.local;

import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendProvider;
import org.jobyard.api.ConfigurationException;

/**
 * Jobs as plain processes on the transport's host: this machine with the local transport, a
 * login or worker node over SSH. Settings: {@code slots} (jobs at once, default: this machine's
 * CPUs), {@code workdir} (root of the job folders on the execution host), {@code kill-grace} (how
 * long a cancelled job gets between TERM and KILL, default 5s).
 */
public final class LocalBackendProvider implements BackendProvider {

  @Override
  public String name() {
    return "local";
  }

  @Override
  public Backend create(BackendContext context) throws ConfigurationException {
    return new LocalBackend(context, LocalSettings.from(context));
  }
}
