package org.jobyard.engine.fairshare;

import java.util.Map;

/**
 * How the engine shares each cluster between users: a user's share is their weight in the
 * weighted fair queueing of {@link FairQueue} (a user with share 3 gets three jobs released for
 * every one of a user with share 1, while both have jobs waiting).
 *
 * @param users share per user name
 * @param defaultShare the share of every user not named
 */
public record Shares(Map<String, Double> users, double defaultShare) {
  /** Every user the same share. */
  public static final Shares EQUAL = new Shares(Map.of(), 1);

  public Shares {
    users = Map.copyOf(users);
    users.forEach((user, share) -> check(share, "fair_share.shares." + user));
    check(defaultShare, "fair_share.default");
  }

  private static void check(double share, String field) {
    if (!(share > 0) || Double.isInfinite(share)) {
      throw new IllegalArgumentException(field + ": a share is a number above 0, got " + share);
    }
  }

  /** The user's share. */
  public double of(String user) {
    return users.getOrDefault(user, defaultShare);
  }
}
