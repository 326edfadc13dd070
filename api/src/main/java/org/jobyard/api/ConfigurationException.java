package org.jobyard.api;

/** A cluster's configuration is wrong; the message names the setting and what was expected. */
public class ConfigurationException extends Exception {
  public ConfigurationException(String message) {
    super(message);
  }

  public ConfigurationException(String message, Throwable cause) {
    super(message, cause);
  }
}
