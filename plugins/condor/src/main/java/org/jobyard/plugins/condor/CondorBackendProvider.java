package org.jobyard.plugins.condor;

import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendProvider;
import org.jobyard.api.ConfigurationException;

/**
 * HTCondor through {@code condor_submit}, {@code condor_q}, {@code condor_history}, {@code
 * condor_rm}, {@code condor_hold} and {@code condor_release}, run on an access point (the machine
 * with the schedd) through the cluster's transport. Settings: see {@link CondorSettings}.
 */
public final class CondorBackendProvider implements BackendProvider {

  @Override
  public String name() {
    return "condor";
  }

  @Override
  public Backend create(BackendContext context) throws ConfigurationException {
    return new CondorBackend(context, CondorSettings.from(context));
  }
}
