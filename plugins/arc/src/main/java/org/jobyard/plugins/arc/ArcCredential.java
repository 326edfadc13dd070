package org.jobyard.plugins.arc;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.jobyard.api.ConfigurationException;

/**
 * The X.509 identity the plugin shows A-REX: a private key and its certificate chain (a user
 * certificate, or an RFC 3820 proxy followed by the certificates that signed it). Read from PEM
 * as grid tools write it: separate certificate and key files, or one proxy file holding both.
 */
record ArcCredential(PrivateKey key, List<X509Certificate> chain) {

  ArcCredential {
    chain = List.copyOf(chain);
  }

  /** The end-entity (or proxy) certificate, which signs delegated proxies. */
  X509Certificate certificate() {
    return chain.getFirst();
  }

  Instant notAfter() {
    return certificate().getNotAfter().toInstant();
  }

  /**
   * Reads {@code certificate} (a chain, first the holder's own) and {@code key} (PKCS#8 or
   * PKCS#1, unencrypted); for a proxy file give the same path twice. Errors name the setting.
   */
  static ArcCredential read(String owner, String certSetting, Path certificate, String keySetting,
      Path key) throws ConfigurationException {
    var chain = new ArrayList<X509Certificate>();
    PrivateKey privateKey = null;
    for (var item : pem(owner, certSetting, certificate)) {
      if (item instanceof X509CertificateHolder h) {
        chain.add(convert(owner, certSetting, certificate, h));
      }
    }
    for (var item : pem(owner, keySetting, key)) {
      try {
        if (item instanceof PEMKeyPair pair) {
          privateKey = new JcaPEMKeyConverter().getKeyPair(pair).getPrivate();
        } else if (item instanceof PrivateKeyInfo info) {
          privateKey = new JcaPEMKeyConverter().getPrivateKey(info);
        }
      } catch (IOException e) {
        throw new ConfigurationException(owner + ": setting '" + keySetting + "': cannot read "
            + "the private key in " + key + ": " + e.getMessage());
      }
    }
    if (chain.isEmpty()) {
      throw new ConfigurationException(owner + ": setting '" + certSetting + "': " + certificate
          + " holds no 'BEGIN CERTIFICATE' block; give the PEM user certificate or proxy");
    }
    if (privateKey == null) {
      throw new ConfigurationException(owner + ": setting '" + keySetting + "': " + key
          + " holds no unencrypted private key ('BEGIN PRIVATE KEY' or 'BEGIN RSA PRIVATE "
          + "KEY'); decrypt it (openssl pkey) or give a proxy file");
    }
    return new ArcCredential(privateKey, chain);
  }

  /** Every certificate of a CA file or of the PEM files of a CA directory (grid style). */
  static List<X509Certificate> trusted(String owner, String setting, Path caDirOrFile)
      throws ConfigurationException {
    var files = new ArrayList<Path>();
    if (Files.isDirectory(caDirOrFile)) {
      try (var list = Files.list(caDirOrFile)) {
        list.filter(p -> p.getFileName().toString().matches(".*\\.(\\d+|pem|crt)"))
            .sorted().forEach(files::add);
      } catch (IOException e) {
        throw new ConfigurationException(owner + ": setting '" + setting + "': cannot list "
            + caDirOrFile + ": " + e.getMessage());
      }
    } else {
      files.add(caDirOrFile);
    }
    var out = new ArrayList<X509Certificate>();
    for (var f : files) {
      for (var item : pem(owner, setting, f)) {
        if (item instanceof X509CertificateHolder h) {
          out.add(convert(owner, setting, f, h));
        }
      }
    }
    if (out.isEmpty()) {
      throw new ConfigurationException(owner + ": setting '" + setting + "': no CA certificate "
          + "found in " + caDirOrFile);
    }
    return out;
  }

  /** TLS with this identity (or none) and the given CAs; the JDK checks the host name. */
  static SSLContext sslContext(ArcCredential identity, List<X509Certificate> cas)
      throws GeneralSecurityException, IOException {
    var password = "jobyard".toCharArray(); // in memory only
    var keys = KeyStore.getInstance("PKCS12");
    keys.load(null, password);
    if (identity != null) {
      keys.setKeyEntry("identity", identity.key(), password,
          identity.chain().toArray(new X509Certificate[0]));
    }
    var kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, password);
    var trust = KeyStore.getInstance("PKCS12");
    trust.load(null, password);
    for (int i = 0; i < cas.size(); i++) {
      trust.setCertificateEntry("ca" + i, cas.get(i));
    }
    var tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    var ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  /** PEM-encodes certificates, as A-REX takes a delegated chain. */
  static String pem(List<X509Certificate> certificates) {
    var sb = new StringBuilder();
    var encoder = java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
    for (var c : certificates) {
      try {
        sb.append("-----BEGIN CERTIFICATE-----\n")
            .append(encoder.encodeToString(c.getEncoded())).append("\n-----END CERTIFICATE-----\n");
      } catch (java.security.cert.CertificateEncodingException e) {
        throw new IllegalStateException("cannot encode certificate " + c.getSubjectX500Principal(),
            e);
      }
    }
    return sb.toString();
  }

  private static List<Object> pem(String owner, String setting, Path file)
      throws ConfigurationException {
    var items = new ArrayList<Object>();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        var parser = new PEMParser(r)) {
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        items.add(o);
      }
    } catch (IOException e) {
      throw new ConfigurationException(owner + ": setting '" + setting + "': cannot read PEM "
          + "from " + file + ": " + e.getMessage());
    }
    return items;
  }

  private static X509Certificate convert(String owner, String setting, Path file,
      X509CertificateHolder holder) throws ConfigurationException {
    try {
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (java.security.cert.CertificateException e) {
      throw new ConfigurationException(owner + ": setting '" + setting + "': a certificate in "
          + file + " cannot be read: " + e.getMessage());
    }
  }
}
