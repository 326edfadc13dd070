package org.jobyard.engine.metrics;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Which client addresses may read {@code /metrics} without a token: a list of CIDR ranges
 * ({@code 10.0.0.0/8}, {@code ::1/128}) or single addresses. Only literal addresses are accepted,
 * so reading the configuration never asks DNS.
 */
public final class AllowList {
  private record Range(byte[] network, int prefix, String text) {
    boolean contains(byte[] address) {
      if (address.length != network.length) {
        return false;
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (address[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = 0xff << (8 - rest) & 0xff;
      return (address[full] & mask) == (network[full] & mask);
    }
  }

  private final List<Range> ranges;

  private AllowList(List<Range> ranges) {
    this.ranges = List.copyOf(ranges);
  }

  /**
   * @throws IllegalArgumentException naming every entry that is not an address or CIDR range
   */
  public static AllowList parse(List<String> entries) {
    var ranges = new ArrayList<Range>();
    var bad = new ArrayList<String>();
    for (var e : entries) {
      var text = e == null ? "" : e.strip();
      var slash = text.indexOf('/');
      var host = slash < 0 ? text : text.substring(0, slash);
      byte[] bytes = literal(host);
      if (bytes == null) {
        bad.add("'" + e + "' (not an IPv4 or IPv6 address)");
        continue;
      }
      int prefix = bytes.length * 8;
      if (slash >= 0) {
        var p = text.substring(slash + 1);
        if (!p.matches("\\d{1,3}") || Integer.parseInt(p) > bytes.length * 8) {
          bad.add("'" + e + "' (the prefix length must be 0 to " + bytes.length * 8 + ")");
          continue;
        }
        prefix = Integer.parseInt(p);
      }
      ranges.add(new Range(bytes, prefix, text));
    }
    if (!bad.isEmpty()) {
      throw new IllegalArgumentException("not an address or CIDR range: " + String.join(", ", bad)
          + "; write e.g. 127.0.0.0/8, 10.1.2.3 or '::1/128'");
    }
    return new AllowList(ranges);
  }

  /** Whether the address (of the TCP peer, never a forwarded header) is allowed. */
  public boolean allows(InetAddress address) {
    var bytes = address.getAddress();
    if (address instanceof java.net.Inet6Address && isMappedIpv4(bytes)) {
      bytes = java.util.Arrays.copyOfRange(bytes, 12, 16); // ::ffff:a.b.c.d is an IPv4 peer
    }
    for (var r : ranges) {
      if (r.contains(bytes)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return ranges.stream().map(Range::text).toList().toString();
  }

  private static boolean isMappedIpv4(byte[] b) {
    if (b.length != 16) {
      return false;
    }
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
  }

  /** The bytes of a literal address, or null; never a DNS lookup. */
  private static byte[] literal(String host) {
    boolean v4 = host.matches("\\d{1,3}(\\.\\d{1,3}){3}")
        && java.util.Arrays.stream(host.split("\\.")).allMatch(o -> Integer.parseInt(o) < 256);
    boolean v6 = host.contains(":") && host.matches("[0-9a-fA-F:.]+");
    if (!v4 && !v6) {
      return null;
    }
    try {
      // with only digits, dots and colons InetAddress parses and does not resolve
      return InetAddress.getByName(host).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
