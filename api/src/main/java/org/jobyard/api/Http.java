package org.jobyard.api;

import static java.util.Objects.requireNonNull;

import java.net.http.HttpClient;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * What a backend with {@link Requirement#HTTP} gets to talk HTTPS to its cluster, built by the
 * engine from the cluster's settings: the trusted CAs ({@code ca_file}, or {@code ca_dir} such as
 * {@code /etc/grid-security/certificates}; the JDK's own when neither is set) and the client
 * identity ({@code certificate} + {@code key}, or {@code proxy}, an RFC 3820 proxy file holding
 * certificate, key and chain). The engine owns and closes the client; a backend must not.
 *
 * @param client an HTTP/1.1 client presenting the cluster's identity and trusting its CAs, with
 *     the connect timeout of the {@code connect_timeout} setting (30 s by default)
 * @param sslContext the same TLS material, for a library that wants its own client
 * @param token the {@code token} setting's bearer token, resolved by the engine, if set
 */
public record Http(HttpClient client, SSLContext sslContext, Optional<Secret> token) {
  public Http {
    requireNonNull(client, "client is null");
    requireNonNull(sslContext, "sslContext is null");
    requireNonNull(token, "token is null");
  }
}
