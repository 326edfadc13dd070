package org.jobyard.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.jobyard.engine.security.Exposure;

/**
 * Which token the CLI sends to an engine, and which certificate it trusts there. A token goes
 * only where it belongs: {@code JOBYARD_TOKEN} where the user points it; an entry of the user's
 * {@code ~/.config/jobyard/engines.yaml} to its own URL; this installation's {@code var/run}
 * token to this installation's engine only. Plain HTTP beyond loopback is refused.
 *
 * <pre>
 * engines:
 *   - {url: https://batch.example.org:8642/, token_file: ~/.jobyard/batch.token, ca: ~/ca.pem}
 * </pre>
 *
 * @param token the bearer token for {@code url}, or null
 * @param tls the trust for {@code url}: {@code JOBYARD_CA} or the entry's {@code ca} (PEM), else
 *     the JDK's own
 */
record Credentials(String token, SSLContext tls) {
  static Credentials of(URI url, Map<String, String> env, Path run) {
    if ("http".equalsIgnoreCase(url.getScheme()) && !Exposure.isLoopback(url.getHost())) {
      throw new CliException(Main.BAD_INPUT, "refusing plain HTTP to " + url + ": tokens would "
          + "cross the network in clear text; use the engine's https:// address");
    }
    var entry = entry(url, env);
    String token = blankToNull(env.get("JOBYARD_TOKEN"));
    if (token == null && entry != null) {
      token = entry.has("token") ? entry.path("token").asText()
          : read(path(entry.path("token_file").asText("")));
    }
    if (token == null) {
      var local = blankToNull(read(run.resolve("engine.url")));
      if (local != null && sameEngine(URI.create(local), url)) {
        token = read(run.resolve("token"));
      }
    }
    var ca = blankToNull(env.get("JOBYARD_CA"));
    if (ca == null && entry != null) {
      ca = blankToNull(entry.path("ca").asText(null));
    }
    return new Credentials(blankToNull(token), ca == null ? null : trusting(path(ca)));
  }

  /** The user's entry for this engine in their configuration, or null. */
  private static JsonNode entry(URI url, Map<String, String> env) {
    var dir = blankToNull(env.get("XDG_CONFIG_HOME"));
    var file = (dir == null ? Path.of(System.getProperty("user.home"), ".config") : Path.of(dir))
        .resolve("jobyard/engines.yaml");
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      // the YAML parser only when the file exists: most calls have none, and it costs start-up
      for (var e : new ObjectMapper(new YAMLFactory()).readTree(file.toFile()).path("engines")) {
        if (e.path("url").isTextual() && sameEngine(URI.create(e.path("url").asText()), url)) {
          return e;
        }
      }
      return null;
    } catch (IOException | IllegalArgumentException e) {
      throw new CliException(Main.BAD_INPUT, file + ": cannot read it: " + e.getMessage());
    }
  }

  /** Same scheme, host and port: the path does not change who receives the token. */
  static boolean sameEngine(URI a, URI b) {
    return a.getScheme() != null && a.getScheme().equalsIgnoreCase(b.getScheme())
        && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost())
        && port(a) == port(b);
  }

  private static int port(URI u) {
    return u.getPort() >= 0 ? u.getPort()
        : u.getScheme().toLowerCase(Locale.ROOT).equals("https") ? 443 : 80;
  }

  /** TLS that trusts the certificates in a PEM file (an engine's self-signed one, or its CA). */
  static SSLContext trusting(Path pem) {
    try (InputStream in = Files.newInputStream(pem)) {
      var store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      int i = 0;
      for (var cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        store.setCertificateEntry("ca" + i++, cert);
      }
      if (i == 0) {
        throw new GeneralSecurityException("no 'BEGIN CERTIFICATE' block");
      }
      var tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      var context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new CliException(Main.BAD_INPUT, "JOBYARD_CA / ca: cannot read certificates from "
          + pem + ": " + e.getMessage());
    }
  }

  private static Path path(String value) {
    return value.startsWith("~/") ? Path.of(System.getProperty("user.home"), value.substring(2))
        : Path.of(value);
  }

  private static String read(Path p) {
    try {
      return Files.isReadable(p) ? Files.readString(p).strip() : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }
}
