package org.jobyard.engine.transport.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.Secrets;
import org.jobyard.api.Settings;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster's HTTPS client, built from its TLS settings, against a real TLS server made here (a
 * CA of the test's own, client certificates required) and against the testbed's A-REX.
 */
class ClientTlsTest {
  @TempDir Path dir;
  TestPki.Issued ca;
  TestPki.Issued user;
  HttpsServer server;
  /** The client chains the server was shown, leaf first. */
  final List<List<X509Certificate>> presented = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startServer() throws Exception {
    ca = TestPki.ca("Jobyard Test CA");
    user = TestPki.user(ca, "alice");
    var serverCert = TestPki.server(ca);
    var store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry("server", serverCert.keys().getPrivate(), "x".toCharArray(),
        new Certificate[] {serverCert.certificate(), ca.certificate()});
    var kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(store, "x".toCharArray());
    var ssl = SSLContext.getInstance("TLS");
    ssl.init(kmf.getKeyManagers(), new TrustManager[] {new ChainToCa()}, null);
    server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(ssl) {
      @Override
      public void configure(HttpsParameters params) {
        var p = ssl.getDefaultSSLParameters();
        p.setNeedClientAuth(true);
        params.setSSLParameters(p);
      }
    });
    server.createContext("/", exchange -> {
      var peer = ((HttpsExchange) exchange).getSSLSession().getPeerPrincipal().getName();
      var body = peer.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
  }

  /**
   * Accepts a client chain whose every certificate is signed by the next and the last by the CA,
   * as grid servers accept RFC 3820 proxies (the JDK's PKIX checker refuses a proxy's issuer).
   */
  final class ChainToCa implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws java.security.cert.CertificateException {
      try {
        for (int i = 0; i < chain.length - 1; i++) {
          chain[i].verify(chain[i + 1].getPublicKey());
        }
        chain[chain.length - 1].verify(ca.certificate().getPublicKey());
      } catch (java.security.GeneralSecurityException e) {
        throw new java.security.cert.CertificateException("chain refused: " + e, e);
      }
      presented.add(List.of(chain));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {
      throw new UnsupportedOperationException();
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[] {ca.certificate()};
    }
  }

  Settings settings(Map<String, String> values) {
    return new Settings("cluster 'ce'", values);
  }

  String get(HttpFactory.Built built) throws Exception {
    var response = built.http().client().send(HttpRequest.newBuilder(
        URI.create("https://localhost:" + server.getAddress().getPort() + "/info"))
        .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }

  @Test
  void aProxyFileAndAHashedCaDirReachAServerThatRequiresAClientCertificate() throws Exception {
    var proxy = TestPki.proxy(user, Duration.ofHours(12));
    // as voms-proxy-init writes it: proxy certificate, its PKCS#1 key, then the user's certificate
    TestPki.pem(dir.resolve("x509up"), proxy.certificate(), proxy.keys().getPrivate(),
        user.certificate());
    var cas = Files.createDirectories(dir.resolve("certificates"));
    TestPki.pem(cas.resolve("0a1b2c3d.0"), ca.certificate());
    Files.writeString(cas.resolve("0a1b2c3d.signing_policy"), "not a certificate");

    var built = HttpFactory.create(settings(Map.of("proxy", dir.resolve("x509up").toString(),
        "ca_dir", cas.toString())), Secrets.NONE, dir);

    assertThat(get(built)).contains("CN=alice");
    assertThat(presented).singleElement().isEqualTo(List.of(proxy.certificate(),
        user.certificate()));
    var identity = built.tls().identity().orElseThrow();
    assertThat(identity.source()).isEqualTo("proxy");
    assertThat(identity.expires()).isEqualTo(proxy.certificate().getNotAfter().toInstant());
  }

  @Test
  void aCertificateWithItsPkcs8KeyAndACaFileReachTheServer() throws Exception {
    TestPki.pem(dir.resolve("cert.pem"), user.certificate());
    TestPki.pem(dir.resolve("key.pem"), new JcaPKCS8Generator(user.keys().getPrivate(), null));
    TestPki.pem(dir.resolve("ca.pem"), ca.certificate());

    var built = HttpFactory.create(settings(Map.of("certificate", "cert.pem", "key", "key.pem",
        "ca_file", "ca.pem")), Secrets.NONE, dir);

    assertThat(get(built)).isEqualTo("CN=alice");
    assertThat(built.tls().identity().orElseThrow().source()).isEqualTo("certificate");
  }

  @Test
  void aServerSignedByAnotherCaIsRefused() throws Exception {
    TestPki.pem(dir.resolve("cert.pem"), user.certificate());
    TestPki.pem(dir.resolve("key.pem"), user.keys().getPrivate());
    TestPki.pem(dir.resolve("other-ca.pem"), TestPki.ca("Someone Else").certificate());

    var built = HttpFactory.create(settings(Map.of("certificate", "cert.pem", "key", "key.pem",
        "ca_file", "other-ca.pem")), Secrets.NONE, dir);

    assertThatThrownBy(() -> get(built)).isInstanceOf(SSLHandshakeException.class);
    assertThat(presented).isEmpty();
  }

  @Test
  void badTlsSettingsAreRefusedNamingTheSettingAndTheFix() throws Exception {
    TestPki.pem(dir.resolve("cert.pem"), user.certificate());
    TestPki.pem(dir.resolve("locked.pem"), new org.bouncycastle.openssl.jcajce
        .JcaMiscPEMGenerator(user.keys().getPrivate(), new JcePEMEncryptorBuilder("AES-256-CBC")
            .setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider())
            .build("secret".toCharArray())));
    Files.createDirectories(dir.resolve("empty-cas"));

    assertThatThrownBy(() -> HttpFactory.create(settings(Map.of("certificate", "cert.pem",
        "key", "locked.pem")), Secrets.NONE, dir))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("cluster 'ce': setting 'key'").hasMessageContaining("encrypted");
    assertThatThrownBy(() -> HttpFactory.create(settings(Map.of("certificate", "cert.pem")),
        Secrets.NONE, dir))
        .hasMessage("cluster 'ce': 'certificate' and 'key' go together; 'key' is missing");
    assertThatThrownBy(() -> HttpFactory.create(settings(Map.of("ca_dir", "empty-cas")),
        Secrets.NONE, dir))
        .hasMessageContaining("setting 'ca_dir'").hasMessageContaining("openssl rehash");
    assertThatThrownBy(() -> HttpFactory.create(settings(Map.of("ca_file", "cert.pem",
        "certificate", "missing.pem", "key", "cert.pem")), Secrets.NONE, dir))
        .hasMessageContaining("setting 'certificate'").hasMessageContaining("missing.pem");
  }

  @Tag("testbed")
  @Test
  void theTestbedsArexAnswersOverTheClustersCertificateKeyAndCaDir() throws Exception {
    Testbed.require(Testbed.ARC);
    var built = HttpFactory.create(settings(Map.of("certificate", Testbed.get("ARC_CERT"),
        "key", Testbed.get("ARC_KEY"), "ca_dir", Testbed.get("ARC_CA_DIR"))), Secrets.NONE, dir);

    var response = built.http().client().send(HttpRequest.newBuilder(
        URI.create(Testbed.get("ARC_URL") + "/rest/1.0/info"))
        .timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isNotBlank();
  }
}
