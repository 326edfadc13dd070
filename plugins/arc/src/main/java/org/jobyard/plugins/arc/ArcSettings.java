package org.jobyard.plugins.arc;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.Settings;

/**
 * An ARC cluster's settings.
 *
 * <pre>
 * arc:
 *   backend: arc
 *   url: https://ce.example.org:443/arex     # the CE's wsurl (required)
 *   certificate: ~/.globus/usercert.pem       # user certificate, with key:
 *   key: ~/.globus/userkey.pem                #   (unencrypted PEM)
 *   # or proxy: /tmp/x509up_u1000            # an RFC 3820 proxy file (certificate + key + chain)
 *   # or token: file:/run/user/1000/bt_u1000 # a bearer token (file: or env: reference)
 *   ca_dir: /etc/grid-security/certificates   # or ca_file: one PEM bundle
 *   queue: grid                               # default queue
 *   delegation_lifetime: 12h                  # the proxy delegated to the CE
 *   delegation_renew_before: 1h               # renewed when it has less than this left
 *   timeout: 60s                              # per HTTP request
 * </pre>
 */
record ArcSettings(URI url, Path certificate, Path key, boolean token, Path caPath,
    String caSetting, String queue, Duration delegationLifetime, Duration renewBefore,
    Duration timeout) {

  static ArcSettings from(Settings s) throws ConfigurationException {
    var raw = s.required("url").strip();
    URI url;
    try {
      url = URI.create(raw.endsWith("/") ? raw.substring(0, raw.length() - 1) : raw);
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException(s.owner() + ": setting 'url' is not a URL: '" + raw
          + "'");
    }
    if (!"https".equals(url.getScheme()) || url.getHost() == null) {
      throw new ConfigurationException(s.owner() + ": setting 'url' must be the CE's https "
          + "address, like https://ce.example.org:443/arex, got '" + raw + "'");
    }
    Path certificate = null;
    Path key = null;
    var proxy = s.string("proxy");
    if (proxy.isPresent()) {
      if (s.string("certificate").isPresent() || s.string("key").isPresent()) {
        throw new ConfigurationException(s.owner() + ": give either 'proxy' or 'certificate' "
            + "and 'key', not both");
      }
      certificate = file(s, "proxy", proxy.get());
      key = certificate;
    } else if (s.string("certificate").isPresent() || s.string("key").isPresent()) {
      certificate = file(s, "certificate", s.required("certificate"));
      key = file(s, "key", s.required("key"));
    }
    var token = s.string("token").isPresent();
    if (certificate == null && !token) {
      throw new ConfigurationException(s.owner() + ": an ARC CE needs a credential: set "
          + "'certificate' and 'key', or 'proxy', or 'token'");
    }
    String caSetting = s.string("ca_file").isPresent() ? "ca_file" : "ca_dir";
    var ca = file(s, caSetting, s.string(caSetting, "/etc/grid-security/certificates"));
    var lifetime = s.duration("delegation_lifetime", Duration.ofHours(12));
    var renew = s.duration("delegation_renew_before", Duration.ofHours(1));
    if (renew.compareTo(lifetime) >= 0) {
      throw new ConfigurationException(s.owner() + ": setting 'delegation_renew_before' ("
          + renew + ") must be shorter than 'delegation_lifetime' (" + lifetime + ")");
    }
    return new ArcSettings(url, certificate, key, token, ca, caSetting,
        s.string("queue").orElse(null), lifetime, renew,
        s.duration("timeout", Duration.ofSeconds(60)));
  }

  private static Path file(Settings s, String setting, String value)
      throws ConfigurationException {
    var p = Path.of(value.startsWith("~/") ? System.getProperty("user.home") + value.substring(1)
        : value);
    if (!Files.isReadable(p)) {
      throw new ConfigurationException(s.owner() + ": setting '" + setting + "': cannot read "
          + p);
    }
    return p;
  }
}
