package org.jobyard.engine.security;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.jobyard.engine.config.ConfigException;
import org.jobyard.engine.config.EngineConfig;

/**
 * Whether the API may listen where it is told to. Tokens cross the network in every request, so
 * beyond loopback the API needs TLS, or {@code insecure: true} said out loud.
 */
public final class Exposure {
  private Exposure() {}

  /** Whether {@code host} names only this machine's loopback interface. */
  public static boolean isLoopback(String host) {
    var h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1)
        : host;
    try {
      for (var address : InetAddress.getAllByName(h)) {
        if (!address.isLoopbackAddress()) {
          return false;
        }
      }
      return true;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /**
   * Refuses plain HTTP beyond loopback unless {@code insecure}; returns a warning to print at
   * start when the configuration accepted that, else null.
   */
  public static String check(EngineConfig.Api api) {
    var listen = api.listen();
    var host = listen.substring(0, listen.lastIndexOf(':'));
    if (api.tls() != null || isLoopback(host)) {
      return null;
    }
    if (!api.insecure()) {
      throw new ConfigException("api.listen: " + listen + " is reachable beyond this machine, "
          + "and without TLS every token would cross the network in clear text; set "
          + "api.tls: {certificate: cert.pem, key: key.pem} (see docs/security.md), or "
          + "'insecure: true' to accept that");
    }
    return "the API listens on " + listen + " over plain HTTP (api.insecure: true): tokens and "
        + "jobs cross the network in clear text";
  }
}
