package org.jobyard.engine.transport.http;

import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.Http;
import org.jobyard.api.Secrets;
import org.jobyard.api.Settings;

/** Builds the HTTPS client of a cluster whose backend declares {@code Requirement.HTTP}. */
public final class HttpFactory {
  private HttpFactory() {}

  /** What the cluster gets, and the TLS identity behind it (for its expiry). */
  public record Built(Http http, ClientTls tls) {}

  public static Built create(Settings settings, Secrets secrets, Path home)
      throws ConfigurationException {
    var tls = ClientTls.fromSettings(settings, home);
    var client = HttpClient.newBuilder()
        .sslContext(tls.sslContext())
        // grid services (A-REX, HTCondor-CE) speak HTTP/1.1; no upgrade attempts
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(settings.duration("connect_timeout", Duration.ofSeconds(30)))
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
    return new Built(new Http(client, tls.sslContext(), secrets.secret("token")), tls);
  }
}
