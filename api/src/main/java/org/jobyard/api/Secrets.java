package org.jobyard.api;

import java.util.Optional;

/**
 * Resolves the cluster's secret settings. The configuration holds a reference, never the secret:
 * {@code token: file:/etc/jobyard/arc.token} (the file's content, trailing newline removed) or
 * {@code token: env:ARC_TOKEN} (an environment variable of the engine). Provided by the engine.
 */
public interface Secrets {

  /**
   * The secret the setting {@code key} refers to; empty when the setting is absent. Throws a
   * {@link ConfigurationException} naming the setting when it is a plain value (a secret written
   * into the configuration) or its file or variable cannot be read.
   */
  Optional<Secret> secret(String key) throws ConfigurationException;

  /** No secrets at all: every setting resolves to empty (tests, backends that need none). */
  Secrets NONE = key -> Optional.empty();
}
