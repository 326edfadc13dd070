package org.jobyard.plugins.arc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.jobyard.plugins.arc.ArcClient.ArcException;

/**
 * One delegated proxy on the CE, shared by every job of the cluster: created on first use,
 * renewed when less than {@code renewBefore} is left, and remembered in the cluster's folder so
 * an engine restart reuses it. A delegation the CE forgot (404 on renewal) is created anew.
 * Synchronized: a submit (on the cluster's transfer thread) may ensure it while a cancel or the
 * maintenance hook does (on its other thread; see {@code Backend}'s threads).
 */
final class Delegation {
  private final ArcClient client;
  private final ArcCredential signer;
  private final Duration lifetime;
  private final Duration renewBefore;
  private final Path file;
  private final Clock clock;
  private String id;
  private Instant expiry;

  Delegation(ArcClient client, ArcCredential signer, Duration lifetime, Duration renewBefore,
      Path file, Clock clock) {
    this.client = client;
    this.signer = signer;
    this.lifetime = lifetime;
    this.renewBefore = renewBefore;
    this.file = file;
    this.clock = clock;
    load();
  }

  /** The delegation's id, renewed or created first when it is missing or about to expire. */
  synchronized String ensure() throws ArcException {
    var now = clock.instant();
    if (id != null && expiry != null && expiry.minus(renewBefore).isAfter(now)) {
      return id;
    }
    if (id != null) {
      try {
        upload(id, client.renewDelegation(id), now);
        return id;
      } catch (ArcException e) {
        if (e.status != 404 && e.status != 500 && e.status != 400) {
          throw e;
        }
        // the CE no longer has it (cleaned, or a new CE instance): make a new one
      }
    }
    var csr = client.newDelegation();
    upload(csr.delegationId(), csr.pem(), now);
    return id;
  }

  /** When the delegated proxy expires, if one was made. */
  synchronized Optional<Instant> expiry() {
    return Optional.ofNullable(expiry);
  }

  synchronized Optional<String> id() {
    return Optional.ofNullable(id);
  }

  private void upload(String delegationId, String csrPem, Instant now) throws ArcException {
    String chain;
    try {
      chain = ProxySigner.sign(signer, csrPem, lifetime, now);
    } catch (IOException | GeneralSecurityException e) {
      throw new ArcException("cannot sign the CE's delegation request " + delegationId + ": "
          + e.getMessage(), 0, false, e);
    }
    client.putDelegation(delegationId, chain);
    id = delegationId;
    var notAfter = now.plus(lifetime);
    expiry = notAfter.isAfter(signer.notAfter()) ? signer.notAfter() : notAfter;
    save();
  }

  private void load() {
    try {
      if (Files.isReadable(file)) {
        var parts = Files.readString(file, StandardCharsets.UTF_8).strip().split("\\s+");
        if (parts.length == 2) {
          id = parts[0];
          expiry = Instant.parse(parts[1]);
        }
      }
    } catch (IOException | RuntimeException e) {
      id = null; // unreadable: a new delegation is made on first use
      expiry = null;
    }
  }

  private void save() {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, id + " " + expiry + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      // only costs a new delegation after a restart
    }
  }
}
