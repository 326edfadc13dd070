package org.jobyard.engine.transport.http;

import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObjectGenerator;

/**
 * A small PKI made for a test: a CA, certificates it issues (a server's for localhost, a user's)
 * and RFC 3820 proxies a user's certificate issues, written as PEM the way grid tools write them.
 */
public final class TestPki {
  private static final AtomicLong SERIAL = new AtomicLong(System.nanoTime());
  /** id-ppl-inheritAll (RFC 3820): the proxy has all its issuer's rights. */
  private static final ASN1ObjectIdentifier INHERIT_ALL =
      new ASN1ObjectIdentifier("1.3.6.1.5.5.7.21.1");
  private static final ASN1ObjectIdentifier PROXY_CERT_INFO =
      new ASN1ObjectIdentifier("1.3.6.1.5.5.7.1.14");

  public record Issued(X509Certificate certificate, KeyPair keys) {}

  public static KeyPair keys() throws Exception {
    var g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    return g.generateKeyPair();
  }

  public static Issued ca(String name) throws Exception {
    var keys = keys();
    var subject = new X500Name("CN=" + name);
    var b = new JcaX509v3CertificateBuilder(subject, serial(), from(), until(Duration.ofDays(30)),
        subject, keys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    return new Issued(sign(b, keys), keys);
  }

  /** A server certificate for {@code localhost} and 127.0.0.1. */
  public static Issued server(Issued ca) throws Exception {
    var keys = keys();
    var b = builder(ca, new X500Name("CN=localhost"), keys, Duration.ofDays(30));
    b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
        new GeneralName(GeneralName.dNSName, "localhost"),
        new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
    return new Issued(sign(b, ca.keys()), keys);
  }

  public static Issued user(Issued ca, String name) throws Exception {
    var keys = keys();
    return new Issued(sign(builder(ca, new X500Name("CN=" + name), keys, Duration.ofDays(30)),
        ca.keys()), keys);
  }

  /** An RFC 3820 proxy the user's certificate issues, valid for {@code life}. */
  public static Issued proxy(Issued user, Duration life) throws Exception {
    var keys = keys();
    var serial = serial();
    // RFC 3820: the issuer's name plus one CN
    var subject = new X500Name(user.certificate().getSubjectX500Principal().getName()
        + ",CN=" + serial);
    var b = new JcaX509v3CertificateBuilder(
        X500Name.getInstance(user.certificate().getSubjectX500Principal().getEncoded()), serial,
        from(), until(life), subject, keys.getPublic());
    b.addExtension(PROXY_CERT_INFO, true, new DERSequence(new DERSequence(INHERIT_ALL)));
    return new Issued(sign(b, user.keys()), keys);
  }

  private static JcaX509v3CertificateBuilder builder(Issued issuer, X500Name subject,
      KeyPair keys, Duration life) {
    return new JcaX509v3CertificateBuilder(
        X500Name.getInstance(issuer.certificate().getSubjectX500Principal().getEncoded()),
        serial(), from(), until(life), subject, keys.getPublic());
  }

  private static X509Certificate sign(JcaX509v3CertificateBuilder b, KeyPair signer)
      throws Exception {
    return new JcaX509CertificateConverter().getCertificate(b.build(
        new JcaContentSignerBuilder("SHA256withRSA").build(signer.getPrivate())));
  }

  private static BigInteger serial() {
    return BigInteger.valueOf(SERIAL.incrementAndGet());
  }

  private static Date from() {
    return Date.from(Instant.now().minus(Duration.ofMinutes(5)));
  }

  private static Date until(Duration life) {
    return Date.from(Instant.now().plus(life));
  }

  /** A proxy file as voms-proxy-init writes it: proxy, its key, the user's certificate. */
  public static Path proxyFile(Issued ca, Path dir, Duration life) throws Exception {
    var user = user(ca, "alice");
    var proxy = proxy(user, life);
    return pem(dir.resolve("x509up"), proxy.certificate(), proxy.keys().getPrivate(),
        user.certificate());
  }

  /** Writes the objects as PEM blocks, one after the other, into {@code file}. */
  public static Path pem(Path file, Object... objects) throws Exception {
    var text = new StringWriter();
    try (var w = new JcaPEMWriter(text)) {
      for (var o : objects) {
        w.writeObject(o instanceof PemObjectGenerator g ? g : new JcaMiscPEMGenerator(o));
      }
    }
    return Files.writeString(file, text.toString());
  }
}
