package org.jobyard.plugins.arc;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.Optional;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendProvider;
import org.jobyard.api.ConfigurationException;

/**
 * ARC CEs through A-REX's REST interface over HTTPS, with a user certificate, an RFC 3820 proxy
 * or a bearer token. Settings: see {@link ArcSettings}. The cluster's transport is not used.
 */
public final class ArcBackendProvider implements BackendProvider {

  @Override
  public String name() {
    return "arc";
  }

  @Override
  public Backend create(BackendContext context) throws ConfigurationException {
    var owner = context.settings().owner();
    var settings = ArcSettings.from(context.settings());
    ArcCredential credential = null;
    if (settings.certificate() != null) {
      credential = ArcCredential.read(owner, settings.certificate().equals(settings.key())
          ? "proxy" : "certificate", settings.certificate(), settings.certificate()
          .equals(settings.key()) ? "proxy" : "key", settings.key());
    }
    var cas = ArcCredential.trusted(owner, settings.caSetting(), settings.caPath());
    HttpClient http;
    try {
      http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .sslContext(ArcCredential.sslContext(credential, cas))
          .connectTimeout(settings.timeout()).build();
    } catch (GeneralSecurityException | IOException e) {
      throw new ConfigurationException(owner + ": cannot set up TLS with the configured "
          + "certificate, key and CAs: " + e.getMessage());
    }
    var tokenFile = settings.tokenFile();
    var client = new ArcClient(settings.restBase(), http, () -> tokenFile.flatMap(f -> {
      try {
        return Optional.of(Files.readString(f).strip()).filter(t -> !t.isEmpty());
      } catch (IOException e) {
        return Optional.empty(); // the CE then refuses with 403, which names the problem
      }
    }), settings.timeout());
    var delegation = credential == null ? Optional.<Delegation>empty()
        : Optional.of(new Delegation(client, credential, settings.delegationLifetime(),
            settings.renewBefore(), context.workDir().resolve("arc-delegation"),
            Clock.systemUTC()));
    return new ArcBackend(context.cluster(), client, delegation, settings.queue());
  }
}
