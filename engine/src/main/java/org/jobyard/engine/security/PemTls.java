package org.jobyard.engine.security;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.jobyard.engine.config.ConfigException;

/**
 * The API's TLS identity from two PEM files, as web servers take it: a certificate chain (the
 * server's certificate first) and its unencrypted PKCS#8 private key (RSA, EC or Ed25519).
 * Loaded once at start, so a bad file stops the engine with a message, not the first client.
 */
public final class PemTls {
  private static final Pattern PKCS8 = Pattern.compile(
      "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");
  private static final char[] PASSWORD = "jobyard".toCharArray(); // in memory only

  private final KeyStore keyStore;

  private PemTls(KeyStore keyStore) {
    this.keyStore = requireNonNull(keyStore, "keyStore is null");
  }

  /** Reads and checks the pair; a {@link ConfigException} names the file and the fix. */
  public static PemTls load(Path certificate, Path key) {
    List<? extends Certificate> chain;
    try (InputStream in = Files.newInputStream(certificate)) {
      chain = List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigException("api.tls.certificate: cannot read a PEM certificate from "
          + certificate + ": " + e.getMessage(), e);
    }
    if (chain.isEmpty()) {
      throw new ConfigException("api.tls.certificate: " + certificate + " holds no "
          + "'BEGIN CERTIFICATE' block");
    }
    var privateKey = privateKey(key);
    try {
      var store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("jobyard", privateKey, PASSWORD, chain.toArray(Certificate[]::new));
      return new PemTls(store);
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigException("api.tls: the key in " + key + " does not go with the "
          + "certificate in " + certificate + ": " + e.getMessage(), e);
    }
  }

  private static PrivateKey privateKey(Path key) {
    String text;
    try {
      text = Files.readString(key);
    } catch (IOException e) {
      throw new ConfigException("api.tls.key: cannot read " + key + ": " + e.getMessage(), e);
    }
    var m = PKCS8.matcher(text);
    if (!m.find()) {
      throw new ConfigException("api.tls.key: " + key + " holds no unencrypted PKCS#8 key "
          + "('BEGIN PRIVATE KEY'); convert it with: openssl pkcs8 -topk8 -nocrypt -in "
          + key + " -out key.pem");
    }
    var spec = new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(m.group(1)));
    for (var algorithm : List.of("RSA", "EC", "Ed25519", "EdDSA")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (GeneralSecurityException e) {
        // try the next algorithm
      }
    }
    throw new ConfigException("api.tls.key: " + key + " is not an RSA, EC or Ed25519 key");
  }

  /** A Jetty connector serving HTTPS (HTTP/1.1) on {@code host:port}. */
  public Connector connector(Server server, HttpConfiguration http, String host, int port) {
    var ssl = new SslContextFactory.Server();
    ssl.setKeyStore(keyStore);
    ssl.setKeyStorePassword(new String(PASSWORD));
    var https = new HttpConfiguration(http);
    // clients may name the engine by address: the certificate, not the SNI name, is checked
    https.addCustomizer(new SecureRequestCustomizer(false));
    var connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"),
        new HttpConnectionFactory(https));
    connector.setHost(host);
    connector.setPort(port);
    return connector;
  }
}
