package org.jobyard.plugins.arc;

import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * Signs A-REX's delegation request (a PKCS#10 CSR) into an RFC 3820 proxy: issued by the
 * credential's certificate, subject that DN plus one {@code CN=<serial>}, a critical
 * proxyCertInfo with the inherit-all policy, and never outliving the signer. BouncyCastle reads
 * ARC 6.17's CSRs, whose version field (2) stricter parsers refuse.
 */
final class ProxySigner {
  private static final ASN1ObjectIdentifier PROXY_CERT_INFO =
      new ASN1ObjectIdentifier("1.3.6.1.5.5.7.1.14");
  private static final ASN1ObjectIdentifier INHERIT_ALL =
      new ASN1ObjectIdentifier("1.3.6.1.5.5.7.21.1");

  private ProxySigner() {}

  /** The PEM chain to upload: the new proxy, then the signer's chain (no private key). */
  static String sign(ArcCredential signer, String csrPem, Duration lifetime, Instant now)
      throws GeneralSecurityException, IOException {
    var proxy = proxy(signer, publicKey(csrPem), lifetime, now);
    var chain = new ArrayList<X509Certificate>();
    chain.add(proxy);
    chain.addAll(signer.chain());
    return ArcCredential.pem(chain);
  }

  static PublicKey publicKey(String csrPem) throws IOException, GeneralSecurityException {
    try (var parser = new PEMParser(new StringReader(csrPem))) {
      var o = parser.readObject();
      if (!(o instanceof PKCS10CertificationRequest csr)) {
        throw new IOException("the CE's delegation answer holds no PEM certificate request");
      }
      return new JcaPKCS10CertificationRequest(csr).getPublicKey();
    }
  }

  static X509Certificate proxy(ArcCredential signer, PublicKey key, Duration lifetime,
      Instant now) throws GeneralSecurityException, IOException {
    var issuer = signer.certificate();
    var serial = BigInteger.valueOf(now.toEpochMilli()).shiftLeft(8)
        .or(BigInteger.valueOf(now.getNano() & 0xff));
    var issuerName = X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
    var subject = new X500NameBuilder(BCStyle.INSTANCE);
    for (var rdn : issuerName.getRDNs()) {
      subject.addMultiValuedRDN(rdn.getTypesAndValues());
    }
    subject.addRDN(BCStyle.CN, serial.toString());
    var notAfter = now.plus(lifetime);
    if (notAfter.isAfter(issuer.getNotAfter().toInstant())) {
      notAfter = issuer.getNotAfter().toInstant(); // a proxy never outlives its signer
    }
    var builder = new JcaX509v3CertificateBuilder(issuerName, serial,
        Date.from(now.minus(Duration.ofMinutes(5))), Date.from(notAfter), subject.build(), key);
    var policy = new ASN1EncodableVector();
    policy.add(INHERIT_ALL);
    var info = new ASN1EncodableVector();
    info.add(new DERSequence(policy));
    builder.addExtension(PROXY_CERT_INFO, true, new DERSequence(info));
    builder.addExtension(Extension.keyUsage, true,
        new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
    builder.addExtension(Extension.basicConstraints, false, new BasicConstraints(false));
    builder.addExtension(Extension.authorityKeyIdentifier, false,
        new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(issuer));
    var algorithm = signer.key().getAlgorithm().equals("EC") ? "SHA256withECDSA"
        : "SHA256withRSA";
    try {
      var signed = builder.build(new JcaContentSignerBuilder(algorithm).build(signer.key()));
      return new JcaX509CertificateConverter().getCertificate(signed);
    } catch (org.bouncycastle.operator.OperatorCreationException e) {
      throw new GeneralSecurityException("cannot sign a proxy with " + algorithm, e);
    }
  }

  /** For tests and messages: the chain's certificates, parsed back. */
  static List<X509Certificate> parse(String pem) throws IOException, GeneralSecurityException {
    var out = new ArrayList<X509Certificate>();
    try (var parser = new PEMParser(new StringReader(pem))) {
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        if (o instanceof org.bouncycastle.cert.X509CertificateHolder h) {
          out.add(new JcaX509CertificateConverter().getCertificate(h));
        }
      }
    }
    return out;
  }
}
