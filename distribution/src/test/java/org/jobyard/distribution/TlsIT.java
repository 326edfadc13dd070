package org.jobyard.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API beyond loopback, on an address of this machine other than 127.0.0.1: served over TLS
 * with a self-signed certificate that the CLI and curl are told to trust, and refused over plain
 * HTTP unless the configuration says {@code insecure: true}.
 */
class TlsIT {
  @TempDir
  static Path tmp;
  static Tarball tarball;
  static Path work;
  static String address;
  static Path cert;

  @BeforeAll
  static void unpackAndMakeACertificate() throws Exception {
    var found = SecurityIT.nonLoopbackAddress();
    Assumptions.assumeTrue(found.isPresent(), "this machine has no non-loopback IPv4 address");
    address = found.get();
    tarball = Tarball.unpack(Files.createDirectory(tmp.resolve("dist")));
    work = Files.createDirectory(tmp.resolve("work"));
    cert = tarball.home.resolve("conf/cert.pem");
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=jobyard-test", "-addext", "subjectAltName=IP:" + address,
        "-keyout", tarball.home.resolve("conf/key.pem").toString(), "-out", cert.toString());
  }

  static String run(String... command) throws Exception {
    var p = new ProcessBuilder(command).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + out).isZero();
    return out;
  }

  static void configure(String api) throws Exception {
    Files.writeString(tarball.home.resolve("conf/jobyard.yaml"), "api: " + api + "\n");
  }

  @Test
  void servesTlsToTheCliAndCurlAndRefusesPlainHttpBeyondLoopback() throws Exception {
    configure("{listen: '" + address + ":0'}");
    var refused = tarball.run(work, DaemonIT.CLI, "engine");
    assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(2);
    assertThat(refused.stderr()).contains(address).contains("api.tls").contains("insecure");

    configure("{listen: '" + address + ":0', tls: {certificate: conf/cert.pem, "
        + "key: conf/key.pem}}");
    var daemon = DaemonIT.Daemon.start(tarball);
    try {
      assertThat(daemon.url().toString()).startsWith("https://" + address + ":");
      var trusted = tarball.run(work, DaemonIT.CLI, Map.of("JOBYARD_CA", cert.toString()),
          "backends");
      assertThat(trusted.exitCode()).as(trusted.toString()).isZero();
      assertThat(trusted.stdout()).contains("local");
      var untrusted = tarball.run(work, DaemonIT.CLI, "backends");
      assertThat(untrusted.exitCode()).as(untrusted.toString()).isEqualTo(3);
      assertThat(untrusted.stderr()).contains("not trusted").contains("JOBYARD_CA");
      var curl = run("curl", "-sS", "--cacert", cert.toString(), "-H",
          "Authorization: Bearer " + daemon.token(), daemon.url() + "api/v1/health");
      assertThat(curl).contains("\"status\":\"ok\"");
      var plain = new ProcessBuilder("curl", "-sS", "-m", "10", "-H",
          "Authorization: Bearer " + daemon.token(),
          daemon.url().toString().replace("https:", "http:") + "api/v1/health")
          .redirectErrorStream(true).start();
      var plainOut = new String(plain.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      plain.waitFor(30, TimeUnit.SECONDS);
      assertThat(plainOut).doesNotContain("\"status\":\"ok\"");
    } finally {
      daemon.stop();
    }

    configure("{listen: '" + address + ":0', insecure: true}");
    var insecure = DaemonIT.Daemon.start(tarball);
    try {
      assertThat(insecure.url().toString()).startsWith("http://" + address + ":");
      assertThat(insecure.console()).contains("WARNING").contains("plain HTTP");
    } finally {
      insecure.stop();
    }
  }
}
