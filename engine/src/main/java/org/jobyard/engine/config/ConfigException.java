package org.jobyard.engine.config;

/** The configuration file is wrong; the message names the file, the field and what was expected. */
public class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
