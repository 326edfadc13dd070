package org.jobyard.engine.http;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.control.Caller;

/**
 * Bearer tokens to callers. Tokens are kept as SHA-256 digests and looked up by digest, so the
 * time a lookup takes says nothing about how close a guess was, and no secret stays in memory
 * longer than parsing the configuration.
 */
public final class Authenticator {
  private final Map<String, Caller> byDigest;

  public Authenticator(List<EngineConfig.Api.Token> tokens) {
    var m = new HashMap<String, Caller>();
    for (var t : tokens) {
      if (m.putIfAbsent(digest(t.token()), new Caller(t.user(), t.admin())) != null) {
        throw new IllegalArgumentException("token of user '" + t.user() + "' is given twice");
      }
    }
    this.byDigest = Map.copyOf(m);
  }

  /** A fresh random token: 32 bytes, URL-safe Base64 (43 characters). */
  public static String newToken() {
    var bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** The caller for an {@code Authorization} header value, if it carries a known bearer token. */
  public Optional<Caller> authenticate(String authorization) {
    if (authorization == null) {
      return Optional.empty();
    }
    var h = authorization.strip();
    if (h.length() < 7 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.empty();
    }
    var token = h.substring(7).strip();
    return token.isEmpty() ? Optional.empty() : Optional.ofNullable(byDigest.get(digest(token)));
  }

  private static String digest(String token) {
    requireNonNull(token, "token is null");
    try {
      var d = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
    }
  }
}
