package org.jobyard.engine.cluster;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.Secret;
import org.jobyard.api.Secrets;
import org.jobyard.api.Settings;
import org.jobyard.engine.config.ConfigLoader;

/**
 * Resolves a cluster's secret settings for its backend: {@code file:PATH} (relative to the
 * engine's home; the content without its trailing newline) or {@code env:NAME}. A plain value is
 * refused, so a secret never sits in the configuration file, where {@code backends} output, a
 * support bundle or a log of the settings would show it.
 */
public final class SecretResolver implements Secrets {
  private final Settings settings;
  private final Path home;
  private final Map<String, String> environment;

  public SecretResolver(Settings settings, Path home, Map<String, String> environment) {
    this.settings = requireNonNull(settings, "settings is null");
    this.home = requireNonNull(home, "home is null");
    this.environment = Map.copyOf(environment);
  }

  @Override
  public Optional<Secret> secret(String key) throws ConfigurationException {
    var raw = settings.string(key);
    if (raw.isEmpty()) {
      return Optional.empty();
    }
    var where = settings.owner() + ": setting '" + key + "'";
    var ref = raw.get().strip();
    String value;
    if (ref.startsWith("file:")) {
      var file = ConfigLoader.path(home, ref.substring("file:".length()));
      try {
        value = Files.readString(file).strip();
      } catch (IOException e) {
        throw new ConfigurationException(where + ": cannot read " + file + ": " + e, e);
      }
      if (value.isEmpty()) {
        throw new ConfigurationException(where + ": " + file + " is empty");
      }
    } else if (ref.startsWith("env:")) {
      var name = ref.substring("env:".length());
      value = environment.get(name);
      if (value == null || value.isBlank()) {
        throw new ConfigurationException(where + ": the environment variable " + name
            + " is not set (or empty) in the engine's environment");
      }
      value = value.strip();
    } else {
      throw new ConfigurationException(where + ": a secret is given by reference, not in the "
          + "configuration: write file:/path/to/secret (a private file) or env:VARIABLE");
    }
    return Optional.of(new Secret(where, value));
  }
}
