package org.jobyard.api;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * A credential of a cluster and when it stops working ("proxy expires in 2 h"), reported through
 * {@link BackendContext.Events#credentialExpires}; {@code jobyard backends} and the API show it,
 * as a warning when it is near or past.
 *
 * @param name which credential ({@code proxy}, {@code token}, {@code delegation})
 * @param expires when it stops being accepted
 */
public record CredentialExpiry(String name, Instant expires) {
  public CredentialExpiry {
    requireNonNull(name, "name is null");
    requireNonNull(expires, "expires is null");
  }
}
