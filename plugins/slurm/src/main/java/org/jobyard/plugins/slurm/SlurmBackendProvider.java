package org.jobyard.plugins.slurm;

import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendProvider;
import org.jobyard.api.ConfigurationException;

/**
 * Slurm through {@code sbatch}, {@code squeue}, {@code scancel}, {@code scontrol} and, when the
 * cluster has accounting, {@code sacct}, run on the submit host through the cluster's transport
 * (this machine, or a login node over SSH). Settings: see {@link SlurmSettings}.
 */
public final class SlurmBackendProvider implements BackendProvider {

  @Override
  public String name() {
    return "slurm";
  }

  @Override
  public Backend create(BackendContext context) throws ConfigurationException {
    return new SlurmBackend(context, SlurmSettings.from(context));
  }
}
