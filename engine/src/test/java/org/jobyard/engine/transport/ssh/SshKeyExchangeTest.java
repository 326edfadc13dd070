package org.jobyard.engine.transport.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import com.jcraft.jsch.JSch;
import com.jcraft.jsch.KeyPair;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which key exchanges a handshake tries out before proposing them (JSch's CheckKexes). */
class SshKeyExchangeTest {

  @Test
  void theDefaultHandshakeTriesOutOnlyTheKeyExchangesItProposes() {
    var check = JSch.getConfig("CheckKexes");
    var proposed = List.of(JSch.getConfig("kex").split(","));
    // the premise: JSch's own list holds ones it never proposes (sntrup761 through Bouncy Castle)
    assertThat(check).contains("sntrup761x25519-sha512");
    assertThat(proposed).doesNotContain("sntrup761x25519-sha512");

    var tried = List.of(SshTransport.proposedOnly(check, JSch.getConfig("kex")).split(","));

    assertThat(tried).isNotEmpty().allMatch(proposed::contains)
        .contains("mlkem768x25519-sha256", "curve25519-sha256")
        .doesNotContain("sntrup761x25519-sha512", "mlkem1024nistp384-sha384");
  }

  @Test
  void theTransportsSessionsTryOutOnlyTheProposedKeyExchanges(@TempDir Path tmp)
      throws Exception {
    // a session is set up without connecting: a throwaway key and an empty known_hosts do
    var identity = tmp.resolve("id_ecdsa");
    KeyPair.genKeyPair(new JSch(), KeyPair.ECDSA, 256).writePrivateKey(identity.toString());
    var knownHosts = Files.createFile(tmp.resolve("known_hosts"));
    var settings = new SshSettings("127.0.0.1", 22, "nobody", identity, knownHosts, 1, 0,
        Duration.ofSeconds(10), Duration.ofSeconds(15), Duration.ofMinutes(10),
        Duration.ofSeconds(60));
    var transport = SshTransport.open(settings);
    try {
      var session = transport.session("nobody", "127.0.0.1", 22);
      var proposed = List.of(session.getConfig("kex").split(","));

      assertThat(List.of(session.getConfig("CheckKexes").split(",")))
          .allMatch(proposed::contains).doesNotContain("sntrup761x25519-sha512");
    } finally {
      transport.close();
    }
  }

  @Test
  void aKeyExchangeTheUserProposesIsStillTriedOutInJschsOrder() {
    var tried = SshTransport.proposedOnly("mlkem768x25519-sha256,sntrup761x25519-sha512,"
        + "curve25519-sha256", "curve25519-sha256,sntrup761x25519-sha512,curve25519-sha256");

    assertThat(tried).isEqualTo("sntrup761x25519-sha512,curve25519-sha256");
  }

  @Test
  void nothingToTryOutStaysNothing() {
    assertThat(SshTransport.proposedOnly(null, "curve25519-sha256")).isNull();
    assertThat(SshTransport.proposedOnly("curve25519-sha256", "ecdh-sha2-nistp256")).isEmpty();
  }
}
