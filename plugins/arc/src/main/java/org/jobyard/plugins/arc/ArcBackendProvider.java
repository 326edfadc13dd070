package org.jobyard.plugins.arc;

import java.io.IOException;
import java.net.http.HttpClient;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.Optional;
import java.util.Set;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendProvider;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.Http;
import org.jobyard.api.Requirement;
import org.jobyard.api.Secret;

/**
 * ARC CEs through A-REX's REST interface over HTTPS, with a user certificate, an RFC 3820 proxy
 * or a bearer token. Settings: see {@link ArcSettings}. The cluster's transport is not used.
 */
public final class ArcBackendProvider implements BackendProvider {

  @Override
  public String name() {
    return "arc";
  }

  /** HTTPS to the CE, no shell: the engine builds the client from the cluster's TLS settings. */
  @Override
  public Set<Requirement> requirements() {
    return Set.of(Requirement.HTTP);
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
    HttpClient http;
    Optional<Secret> token = Optional.empty();
    var engineHttp = engineHttp(context);
    if (engineHttp.isPresent()) {
      http = engineHttp.get().client();
      token = engineHttp.get().token();
    } else {
      // a harness that builds contexts by hand (the conformance kit): the same TLS, made here
      var cas = ArcCredential.trusted(owner, settings.caSetting(), settings.caPath());
      try {
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .sslContext(ArcCredential.sslContext(credential, cas))
            .connectTimeout(java.time.Duration.ofSeconds(30)).build();
      } catch (GeneralSecurityException | IOException e) {
        throw new ConfigurationException(owner + ": cannot set up TLS with the configured "
            + "certificate, key and CAs: " + e.getMessage());
      }
    }
    var bearer = token.map(Secret::reveal);
    var client = ArcClient.negotiating(settings.url(), http, () -> bearer,
        settings.timeout());
    var delegation = credential == null ? Optional.<Delegation>empty()
        : Optional.of(new Delegation(client, credential, settings.delegationLifetime(),
            settings.renewBefore(), context.workDir().resolve("arc-delegation"),
            Clock.systemUTC()));
    return new ArcBackend(context.cluster(), client, delegation, settings.queue(),
        context.events(), settings.delegationLifetime().dividedBy(4));
  }

  /** The engine's client; a context made by hand (the conformance kit's) has none. */
  private static Optional<Http> engineHttp(BackendContext context) {
    try {
      return Optional.of(context.http());
    } catch (IllegalStateException e) {
      return Optional.empty();
    }
  }
}
