package org.jobyard.api;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A cluster's settings from the configuration, with typed getters whose errors name the field.
 *
 * @param owner what the settings belong to, for messages ({@code cluster 'hpc'})
 * @param values the raw values, as strings
 */
public record Settings(String owner, Map<String, String> values) {

  public Settings {
    java.util.Objects.requireNonNull(owner, "owner is null");
    values = java.util.Collections.unmodifiableMap(new TreeMap<>(values));
  }

  public static Settings empty(String owner) {
    return new Settings(owner, Map.of());
  }

  public Optional<String> string(String key) {
    return Optional.ofNullable(values.get(key)).filter(v -> !v.isBlank());
  }

  public String string(String key, String fallback) {
    return string(key).orElse(fallback);
  }

  public String required(String key) throws ConfigurationException {
    return string(key).orElseThrow(() -> new ConfigurationException(
        owner + ": setting '" + key + "' is required"));
  }

  public int integer(String key, int fallback) throws ConfigurationException {
    var raw = string(key);
    if (raw.isEmpty()) {
      return fallback;
    }
    try {
      return Integer.parseInt(raw.get().trim());
    } catch (NumberFormatException e) {
      throw new ConfigurationException(
          owner + ": setting '" + key + "' must be a whole number, got '" + raw.get() + "'");
    }
  }

  public boolean bool(String key, boolean fallback) throws ConfigurationException {
    var raw = string(key);
    if (raw.isEmpty()) {
      return fallback;
    }
    return switch (raw.get().trim().toLowerCase(java.util.Locale.ROOT)) {
      case "true", "yes", "on" -> true;
      case "false", "no", "off" -> false;
      default -> throw new ConfigurationException(
          owner + ": setting '" + key + "' must be true or false, got '" + raw.get() + "'");
    };
  }

  /** A duration such as {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}. */
  public Duration duration(String key, Duration fallback) throws ConfigurationException {
    var raw = string(key);
    if (raw.isEmpty()) {
      return fallback;
    }
    return Durations.parse(raw.get()).orElseThrow(() -> new ConfigurationException(owner
        + ": setting '" + key + "' must be a duration like 30s, 5m or 2h, got '" + raw.get()
        + "'"));
  }
}
