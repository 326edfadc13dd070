package org.jobyard.engine.transport.http;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.Reader;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.Settings;

/**
 * A cluster's TLS material as grid tools take it, read from its settings with BouncyCastle's PEM
 * parser (so PKCS#1, PKCS#8 and EC keys all work):
 *
 * <ul>
 *   <li>trust: {@code ca_file} (PEM, one or more certificates) and/or {@code ca_dir} (OpenSSL's
 *       hashed folder, {@code <hash>.0} files, such as {@code /etc/grid-security/certificates});
 *       the JDK's own CAs when neither is set;
 *   <li>identity: {@code certificate} + {@code key} (PEM files), or {@code proxy}, an RFC 3820
 *       proxy file holding the proxy certificate, its key and the chain up to the user's
 *       certificate. Unencrypted keys only: the engine runs unattended.
 * </ul>
 *
 * Everything is read at start, so a wrong file stops the engine with a message naming the setting.
 *
 * @param sslContext the trust and identity, ready for a client
 * @param identity the client's chain (leaf first) and the setting it came from, if any
 */
public record ClientTls(SSLContext sslContext, Optional<Identity> identity) {
  /** OpenSSL's hashed names in a CA folder: {@code 8 hex digits . n}. */
  private static final Pattern HASHED = Pattern.compile("[0-9a-f]{8}\\.\\d+");

  public ClientTls {
    requireNonNull(sslContext, "sslContext is null");
    requireNonNull(identity, "identity is null");
  }

  /**
   * The client's certificate chain and private key.
   *
   * @param source the setting it was read from ({@code proxy} or {@code certificate})
   */
  public record Identity(String source, List<X509Certificate> chain, PrivateKey key) {
    public Identity {
      chain = List.copyOf(chain);
      requireNonNull(key, "key is null");
    }

    /** When the first certificate of the chain stops being valid (a proxy's is the shortest). */
    public Instant expires() {
      return chain.stream().map(c -> c.getNotAfter().toInstant()).min(Comparator.naturalOrder())
          .orElseThrow();
    }
  }

  /** Reads the TLS settings of one cluster; {@code home} resolves relative paths. */
  public static ClientTls fromSettings(Settings settings, Path home)
      throws ConfigurationException {
    var owner = settings.owner();
    var caFile = settings.string("ca_file").map(p -> resolve(home, p));
    var caDir = settings.string("ca_dir").map(p -> resolve(home, p));
    var proxy = settings.string("proxy").map(p -> resolve(home, p));
    var certificate = settings.string("certificate").map(p -> resolve(home, p));
    var key = settings.string("key").map(p -> resolve(home, p));
    if (proxy.isPresent() && (certificate.isPresent() || key.isPresent())) {
      throw new ConfigurationException(owner + ": give either 'proxy' or 'certificate' + 'key', "
          + "not both");
    }
    if (certificate.isPresent() != key.isPresent()) {
      throw new ConfigurationException(owner + ": 'certificate' and 'key' go together; "
          + (certificate.isPresent() ? "'key'" : "'certificate'") + " is missing");
    }
    Optional<Identity> identity = Optional.empty();
    if (proxy.isPresent()) {
      var objects = read(owner, "proxy", proxy.get());
      identity = Optional.of(new Identity("proxy", certificates(owner, "proxy", proxy.get(),
          objects), privateKey(owner, "proxy", proxy.get(), objects)));
    } else if (certificate.isPresent()) {
      var chain = certificates(owner, "certificate", certificate.get(),
          read(owner, "certificate", certificate.get()));
      identity = Optional.of(new Identity("certificate", chain,
          privateKey(owner, "key", key.get(), read(owner, "key", key.get()))));
    }
    try {
      var context = SSLContext.getInstance("TLS");
      context.init(identity.map(i -> new KeyManager[] {new OneIdentity(i)}).orElse(null),
          trustManagers(owner, caFile, caDir), null);
      return new ClientTls(context, identity);
    } catch (GeneralSecurityException e) {
      throw new ConfigurationException(owner + ": cannot set up TLS: " + e.getMessage(), e);
    }
  }

  private static Path resolve(Path home, String value) {
    return org.jobyard.engine.config.ConfigLoader.path(home, value);
  }

  private static TrustManager[] trustManagers(String owner, Optional<Path> caFile,
      Optional<Path> caDir) throws ConfigurationException, GeneralSecurityException {
    if (caFile.isEmpty() && caDir.isEmpty()) {
      return null; // the JDK's own CAs
    }
    var cas = new ArrayList<X509Certificate>();
    if (caFile.isPresent()) {
      cas.addAll(certificates(owner, "ca_file", caFile.get(), read(owner, "ca_file",
          caFile.get())));
    }
    if (caDir.isPresent()) {
      var dir = caDir.get();
      List<Path> files;
      try (Stream<Path> s = Files.list(dir)) {
        files = s.filter(f -> HASHED.matcher(f.getFileName().toString()).matches()).sorted()
            .toList();
      } catch (IOException e) {
        throw new ConfigurationException(owner + ": setting 'ca_dir': cannot list " + dir + ": "
            + e.getMessage(), e);
      }
      if (files.isEmpty()) {
        throw new ConfigurationException(owner + ": setting 'ca_dir': " + dir + " holds no "
            + "hashed CA certificates (<hash>.0 files); create them with: openssl rehash " + dir);
      }
      for (var f : files) {
        cas.addAll(certificates(owner, "ca_dir", f, read(owner, "ca_dir", f)));
      }
    }
    var store = KeyStore.getInstance("PKCS12");
    try {
      store.load(null, null);
    } catch (IOException e) {
      throw new GeneralSecurityException(e);
    }
    for (int i = 0; i < cas.size(); i++) {
      store.setCertificateEntry("ca-" + i, cas.get(i));
    }
    var factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(store);
    return factory.getTrustManagers();
  }

  private static List<Object> read(String owner, String setting, Path file)
      throws ConfigurationException {
    var objects = new ArrayList<Object>();
    try (Reader in = Files.newBufferedReader(file); var pem = new PEMParser(in)) {
      for (Object o = pem.readObject(); o != null; o = pem.readObject()) {
        objects.add(o);
      }
    } catch (IOException | RuntimeException e) {
      throw new ConfigurationException(owner + ": setting '" + setting + "': cannot read PEM from "
          + file + ": " + e.getMessage(), e);
    }
    return objects;
  }

  private static List<X509Certificate> certificates(String owner, String setting, Path file,
      List<Object> objects) throws ConfigurationException {
    var converter = new JcaX509CertificateConverter();
    var out = new ArrayList<X509Certificate>();
    for (var o : objects) {
      if (o instanceof X509CertificateHolder holder) {
        try {
          out.add(converter.getCertificate(holder));
        } catch (java.security.cert.CertificateException e) {
          throw new ConfigurationException(owner + ": setting '" + setting + "': a certificate in "
              + file + " is damaged: " + e.getMessage(), e);
        }
      }
    }
    if (out.isEmpty()) {
      throw new ConfigurationException(owner + ": setting '" + setting + "': " + file
          + " holds no 'BEGIN CERTIFICATE' block");
    }
    return out;
  }

  private static PrivateKey privateKey(String owner, String setting, Path file,
      List<Object> objects) throws ConfigurationException {
    var converter = new JcaPEMKeyConverter();
    for (var o : objects) {
      try {
        if (o instanceof PEMKeyPair pair) {
          return converter.getKeyPair(pair).getPrivate();
        } else if (o instanceof PrivateKeyInfo info) {
          return converter.getPrivateKey(info);
        } else if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
          throw new ConfigurationException(owner + ": setting '" + setting + "': the key in "
              + file + " is encrypted, and the engine cannot ask for a pass phrase; decrypt it "
              + "into a private file with: openssl pkey -in " + file + " -out key.pem");
        }
      } catch (org.bouncycastle.openssl.PEMException e) {
        throw new ConfigurationException(owner + ": setting '" + setting + "': the key in " + file
            + " cannot be used: " + e.getMessage(), e);
      }
    }
    throw new ConfigurationException(owner + ": setting '" + setting + "': " + file
        + " holds no private key ('BEGIN PRIVATE KEY' or 'BEGIN RSA PRIVATE KEY')");
  }

  /**
   * Always offers the one configured identity. The JDK's own key manager matches the server's
   * accepted issuers against the chain's issuers, which drops RFC 3820 proxies (issued by the
   * user, not a CA); the server is the one to judge the chain.
   */
  private static final class OneIdentity extends X509ExtendedKeyManager {
    private static final String ALIAS = "cluster";
    private final Identity identity;

    OneIdentity(Identity identity) {
      this.identity = identity;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return new String[] {ALIAS};
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return ALIAS;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine e) {
      return ALIAS;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return identity.chain().toArray(X509Certificate[]::new);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return identity.key();
    }
  }
}
