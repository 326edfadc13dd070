package org.jobyard.api;

/**
 * The entry point of a backend plugin, found by {@link java.util.ServiceLoader}: list the
 * implementing class in {@code META-INF/services/org.jobyard.api.BackendProvider} of the plugin
 * jar. Must have a public no-argument constructor and do no work in it.
 */
public interface BackendProvider {

  /** The name clusters use to select this backend ({@code backend: slurm}); lower case. */
  String name();

  /**
   * Creates the backend for one configured cluster. Check the settings here and throw {@link
   * ConfigurationException} naming the bad field; do not contact the cluster yet.
   */
  Backend create(BackendContext context) throws ConfigurationException;

  /**
   * What this backend's clusters must get from the engine. The default, {@link
   * Requirement#TRANSPORT}, suits a command-line batch system: its clusters get the configured
   * transport (local unless configured otherwise) and one with {@code transport: none} is
   * refused at start. A REST backend declares {@link Requirement#HTTP} alone: its clusters get an
   * HTTPS client and no transport unless the configuration names one.
   */
  default java.util.Set<Requirement> requirements() {
    return java.util.Set.of(Requirement.TRANSPORT);
  }
}
