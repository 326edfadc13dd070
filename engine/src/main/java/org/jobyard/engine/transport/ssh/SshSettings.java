package org.jobyard.engine.transport.ssh;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.Durations;

/**
 * How to reach one SSH host, and how many connections to it the engine may hold.
 *
 * @param host name or address of the submit host
 * @param port its SSH port (22)
 * @param user the login user
 * @param identity private key file (ed25519 or RSA, no passphrase), or {@code null} when the
 *     keys come from an ssh-agent
 * @param knownHosts the known_hosts file the host key is checked against (~/.ssh/known_hosts)
 * @param maxConnections the most SSH connections held to the host at once (4)
 * @param maxChannelsPerConnection commands and transfers multiplexed on one connection; 0 finds
 *     the server's limit (sshd's {@code MaxSessions}) by probing the first connection
 * @param connectTimeout how long a caller waits for a connection, handshakes and retries
 *     included, before a retryable error (10s)
 * @param keepAliveInterval how often an idle connection is probed so that firewalls keep it and
 *     a dead host is noticed (15s)
 * @param maxConnectionAge connections older than this are drained and replaced, before servers or
 *     firewalls drop them (10m)
 * @param commandTimeout the timeout given to commands that do not set their own (60s)
 * @param jump the host every connection goes through first (OpenSSH's {@code ProxyJump}), or
 *     {@code null} to connect directly
 * @param agent the ssh-agent socket whose keys log in (keys with passphrases stay in the agent),
 *     or {@code null} to use {@code identity}
 */
public record SshSettings(String host, int port, String user, Path identity, Path knownHosts,
    int maxConnections, int maxChannelsPerConnection, Duration connectTimeout,
    Duration keepAliveInterval, Duration maxConnectionAge, Duration commandTimeout, Jump jump,
    Path agent) {

  /** A jump host: logged in to with the same keys and known_hosts as the target. */
  public record Jump(String host, int port, String user) {
    public Jump {
      requireNonNull(host, "host is null");
      requireNonNull(user, "user is null");
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("jump port must be 1-65535, not " + port);
      }
    }

    /** {@code user@host:port}, for messages. */
    public String describe() {
      return user + "@" + host + ":" + port;
    }
  }

  /** Settings with an identity file and a direct connection. */
  public SshSettings(String host, int port, String user, Path identity, Path knownHosts,
      int maxConnections, int maxChannelsPerConnection, Duration connectTimeout,
      Duration keepAliveInterval, Duration maxConnectionAge, Duration commandTimeout) {
    this(host, port, user, identity, knownHosts, maxConnections, maxChannelsPerConnection,
        connectTimeout, keepAliveInterval, maxConnectionAge, commandTimeout, null, null);
  }

  public static final int DEFAULT_PORT = 22;
  public static final int DEFAULT_MAX_CONNECTIONS = 4;
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration DEFAULT_KEEP_ALIVE = Duration.ofSeconds(15);
  public static final Duration DEFAULT_MAX_CONNECTION_AGE = Duration.ofMinutes(10);
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(60);

  private static final Set<String> KEYS = Set.of("type", "host", "port", "user", "identity",
      "known_hosts", "max_connections", "max_channels_per_connection", "connect_timeout",
      "keep_alive_interval", "max_connection_age", "command_timeout", "proxy_jump", "agent");

  public SshSettings {
    requireNonNull(host, "host is null");
    requireNonNull(user, "user is null");
    if (identity == null && agent == null) {
      throw new IllegalArgumentException("give an identity file or an ssh-agent socket");
    }
    requireNonNull(knownHosts, "knownHosts is null");
    requireNonNull(connectTimeout, "connectTimeout is null");
    requireNonNull(keepAliveInterval, "keepAliveInterval is null");
    requireNonNull(maxConnectionAge, "maxConnectionAge is null");
    requireNonNull(commandTimeout, "commandTimeout is null");
    if (host.isBlank()) {
      throw new IllegalArgumentException("host is blank");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be 1-65535, not " + port);
    }
    if (maxConnections < 1) {
      throw new IllegalArgumentException("maxConnections must be at least 1");
    }
    if (maxChannelsPerConnection < 0) {
      throw new IllegalArgumentException("maxChannelsPerConnection must be 0 (probe) or more");
    }
  }

  /** Settings with every default: port 22, ~/.ssh/known_hosts, 4 connections, probed channels. */
  public static SshSettings of(String host, String user, Path identity) {
    return new SshSettings(host, DEFAULT_PORT, user, identity, defaultKnownHosts(),
        DEFAULT_MAX_CONNECTIONS, 0, DEFAULT_CONNECT_TIMEOUT, DEFAULT_KEEP_ALIVE,
        DEFAULT_MAX_CONNECTION_AGE, DEFAULT_COMMAND_TIMEOUT);
  }

  public SshSettings withPort(int newPort) {
    return new SshSettings(host, newPort, user, identity, knownHosts, maxConnections,
        maxChannelsPerConnection, connectTimeout, keepAliveInterval, maxConnectionAge,
        commandTimeout, jump, agent);
  }

  public SshSettings withKnownHosts(Path file) {
    return new SshSettings(host, port, user, identity, file, maxConnections,
        maxChannelsPerConnection, connectTimeout, keepAliveInterval, maxConnectionAge,
        commandTimeout, jump, agent);
  }

  public SshSettings withIdentity(Path file) {
    return new SshSettings(host, port, user, file, knownHosts, maxConnections,
        maxChannelsPerConnection, connectTimeout, keepAliveInterval, maxConnectionAge,
        commandTimeout, jump, agent);
  }

  public SshSettings withMaxConnections(int n) {
    return new SshSettings(host, port, user, identity, knownHosts, n, maxChannelsPerConnection,
        connectTimeout, keepAliveInterval, maxConnectionAge, commandTimeout, jump, agent);
  }

  public SshSettings withMaxChannelsPerConnection(int n) {
    return new SshSettings(host, port, user, identity, knownHosts, maxConnections, n,
        connectTimeout, keepAliveInterval, maxConnectionAge, commandTimeout, jump, agent);
  }

  public SshSettings withConnectTimeout(Duration d) {
    return new SshSettings(host, port, user, identity, knownHosts, maxConnections,
        maxChannelsPerConnection, d, keepAliveInterval, maxConnectionAge, commandTimeout, jump,
        agent);
  }

  public SshSettings withKeepAliveInterval(Duration d) {
    return new SshSettings(host, port, user, identity, knownHosts, maxConnections,
        maxChannelsPerConnection, connectTimeout, d, maxConnectionAge, commandTimeout, jump,
        agent);
  }

  public SshSettings withMaxConnectionAge(Duration d) {
    return new SshSettings(host, port, user, identity, knownHosts, maxConnections,
        maxChannelsPerConnection, connectTimeout, keepAliveInterval, d, commandTimeout, jump,
        agent);
  }

  /** Through this jump host (null: directly). */
  public SshSettings withJump(Jump newJump) {
    return new SshSettings(host, port, user, identity, knownHosts, maxConnections,
        maxChannelsPerConnection, connectTimeout, keepAliveInterval, maxConnectionAge,
        commandTimeout, newJump, agent);
  }

  /** With the keys of the ssh-agent at this socket instead of an identity file. */
  public SshSettings withAgent(Path socket) {
    return new SshSettings(host, port, user, socket == null ? identity : null, knownHosts,
        maxConnections, maxChannelsPerConnection, connectTimeout, keepAliveInterval,
        maxConnectionAge, commandTimeout, jump, socket);
  }

  /** {@code ssh://user@host:port}, for messages (with the jump host if any). */
  public String describe() {
    return "ssh://" + user + "@" + host + ":" + port + (jump == null ? ""
        : " via " + jump.describe());
  }

  /** What logs in: the identity file, or the agent. */
  public String credential() {
    return agent != null ? "the keys of the ssh-agent at " + agent : "identity " + identity;
  }

  /**
   * Reads a YAML/JSON transport block: {@code {type: ssh, host, port, user, identity,
   * known_hosts, max_connections, max_channels_per_connection, connect_timeout,
   * keep_alive_interval, max_connection_age, command_timeout}}. Durations take {@code 10s},
   * {@code 1m30s} or plain seconds; a leading {@code ~} in paths means the engine user's home.
   *
   * @throws ConfigurationException naming the first bad or unknown field
   */
  public static SshSettings fromMap(Map<String, ?> block) throws ConfigurationException {
    return fromMap(block, Path.of(System.getProperty("user.home"), ".ssh", "config"),
        System.getenv());
  }

  public static SshSettings fromMap(Map<String, ?> block, Path sshConfig)
      throws ConfigurationException {
    return fromMap(block, sshConfig, System.getenv());
  }

  /**
   * As {@link #fromMap(Map)}, with {@code host} looked up in an OpenSSH client configuration as
   * {@code ssh} does: a {@code Host} alias gives the real {@code HostName}, and its {@code User},
   * {@code Port}, first {@code IdentityFile} and {@code ProxyJump} fill what the block leaves out
   * (the block wins). The jump host is looked up there too. Without an identity, the keys of the
   * ssh-agent at {@code SSH_AUTH_SOCK} log in ({@code agent: true} says so explicitly,
   * {@code agent: /path/to/socket} names another socket).
   *
   * @param sshConfig the user's {@code ~/.ssh/config}; a missing file changes nothing
   * @param env the environment ({@code SSH_AUTH_SOCK})
   */
  public static SshSettings fromMap(Map<String, ?> block, Path sshConfig,
      Map<String, String> env) throws ConfigurationException {
    requireNonNull(block, "block is null");
    var alias = block.get("host") instanceof String h ? h.strip() : null;
    var fromConfig = alias == null ? null : openSshConfig(alias, sshConfig);
    if (fromConfig != null) {
      var merged = new java.util.LinkedHashMap<String, Object>(block);
      if (fromConfig.getHostname() != null && !fromConfig.getHostname().isBlank()) {
        merged.put("host", fromConfig.getHostname());
      }
      if (!block.containsKey("user") && fromConfig.getUser() != null) {
        merged.put("user", fromConfig.getUser());
      }
      if (!block.containsKey("port") && fromConfig.getPort() > 0) {
        merged.put("port", fromConfig.getPort());
      }
      var identities = fromConfig.getValues("IdentityFile");
      if (!block.containsKey("identity") && identities != null && identities.length > 0) {
        merged.put("identity", identities[0]);
      }
      var jump = fromConfig.getValue("ProxyJump");
      if (!block.containsKey("proxy_jump") && jump != null && !jump.isBlank()) {
        merged.put("proxy_jump", jump.strip());
      }
      block = merged;
    }
    var agent = agent(block, env);
    if (agent != null) {
      var merged = new java.util.LinkedHashMap<String, Object>(block);
      merged.remove("agent");
      merged.remove("identity");
      block = merged;
    }
    var parsed = parse(block, agent != null);
    var jump = block.get("proxy_jump");
    if (jump == null || "none".equals(jump)) {
      return parsed.withAgent(agent);
    }
    if (!(jump instanceof String spec) || spec.isBlank()) {
      throw new ConfigurationException("ssh transport: 'proxy_jump' must be [user@]host[:port], "
          + "not " + describeValue(jump));
    }
    return parsed.withAgent(agent).withJump(jump(spec.strip(), parsed.user(), sshConfig));
  }

  /** The agent socket to use: {@code agent} of the block, else SSH_AUTH_SOCK without identity. */
  private static Path agent(Map<String, ?> block, Map<String, String> env)
      throws ConfigurationException {
    var given = block.get("agent");
    var sock = env.get("SSH_AUTH_SOCK");
    if (given == null) {
      return !block.containsKey("identity") && sock != null && !sock.isBlank() ? Path.of(sock)
          : null;
    }
    if (Boolean.FALSE.equals(given) || "false".equals(given)) {
      return null;
    }
    if (Boolean.TRUE.equals(given) || "true".equals(given)) {
      if (sock == null || sock.isBlank()) {
        throw new ConfigurationException("ssh transport: 'agent: true' but SSH_AUTH_SOCK is not "
            + "set in the engine's environment; start the engine where ssh-agent runs (eval "
            + "$(ssh-agent); ssh-add), or give agent: /path/to/socket");
      }
      return Path.of(sock);
    }
    if (given instanceof String path && !path.isBlank()) {
      return path(path.strip());
    }
    throw new ConfigurationException("ssh transport: 'agent' must be true, false or the agent's "
        + "socket path, not " + describeValue(given));
  }

  /** {@code [user@]host[:port]}, the host possibly an alias of the OpenSSH configuration. */
  private static Jump jump(String spec, String defaultUser, Path sshConfig)
      throws ConfigurationException {
    if (spec.contains(",")) {
      throw new ConfigurationException("ssh transport: proxy_jump '" + spec + "' names several "
          + "jump hosts; one is supported: reach the others from it (its own ProxyJump is not "
          + "followed)");
    }
    if (spec.startsWith("ssh://")) {
      spec = spec.substring("ssh://".length());
    }
    var at = spec.lastIndexOf('@');
    var user = at < 0 ? null : spec.substring(0, at);
    var hostPort = spec.substring(at + 1);
    Integer port = null;
    var colon = hostPort.lastIndexOf(':');
    if (colon > 0 && hostPort.indexOf(':') == colon) {
      var p = hostPort.substring(colon + 1);
      if (!p.matches("\\d{1,5}") || Integer.parseInt(p) < 1 || Integer.parseInt(p) > 65535) {
        throw new ConfigurationException("ssh transport: proxy_jump '" + spec + "': the port "
            + "must be 1-65535, not '" + p + "'");
      }
      port = Integer.parseInt(p);
      hostPort = hostPort.substring(0, colon);
    }
    if (hostPort.isBlank() || (user != null && user.isBlank())) {
      throw new ConfigurationException("ssh transport: proxy_jump must be [user@]host[:port], "
          + "not '" + spec + "'");
    }
    var host = hostPort;
    var alias = openSshConfig(hostPort, sshConfig);
    if (alias != null) {
      if (alias.getHostname() != null && !alias.getHostname().isBlank()) {
        host = alias.getHostname();
      }
      if (user == null && alias.getUser() != null) {
        user = alias.getUser();
      }
      if (port == null && alias.getPort() > 0) {
        port = alias.getPort();
      }
    }
    return new Jump(host, port == null ? DEFAULT_PORT : port, user == null ? defaultUser : user);
  }

  private static com.jcraft.jsch.ConfigRepository.Config openSshConfig(String host, Path file)
      throws ConfigurationException {
    if (file == null || !java.nio.file.Files.isRegularFile(file)) {
      return null;
    }
    try {
      return com.jcraft.jsch.OpenSSHConfig.parseFile(file.toString()).getConfig(host);
    } catch (java.io.IOException | RuntimeException e) {
      throw new ConfigurationException("ssh transport: cannot read " + file + " (the user's "
          + "OpenSSH configuration, consulted for host '" + host + "'): " + e.getMessage());
    }
  }

  private static SshSettings parse(Map<String, ?> block, boolean agent)
      throws ConfigurationException {
    var unknown = new TreeSet<String>();
    for (var k : block.keySet()) {
      if (!KEYS.contains(k)) {
        unknown.add(k);
      }
    }
    if (!unknown.isEmpty()) {
      throw new ConfigurationException("ssh transport: unknown field(s) " + unknown
          + "; known fields are " + new TreeSet<>(KEYS));
    }
    var type = block.get("type");
    if (type != null && !"ssh".equals(type.toString())) {
      throw new ConfigurationException("ssh transport: type must be 'ssh', not '" + type + "'");
    }
    var host = requiredString(block, "host");
    var user = requiredString(block, "user");
    // with an agent, a placeholder the agent replaces (withAgent)
    var identity = agent ? Path.of("(agent)") : path(requiredString(block, "identity"));
    var knownHosts = block.containsKey("known_hosts")
        ? path(requiredString(block, "known_hosts")) : defaultKnownHosts();
    int port = integer(block, "port", DEFAULT_PORT, 1, 65535);
    int maxConnections = integer(block, "max_connections", DEFAULT_MAX_CONNECTIONS, 1, 1000);
    int maxChannels = integer(block, "max_channels_per_connection", 0, 0, 1000);
    var connect = duration(block, "connect_timeout", DEFAULT_CONNECT_TIMEOUT);
    var keepAlive = duration(block, "keep_alive_interval", DEFAULT_KEEP_ALIVE);
    var age = duration(block, "max_connection_age", DEFAULT_MAX_CONNECTION_AGE);
    var command = duration(block, "command_timeout", DEFAULT_COMMAND_TIMEOUT);
    return new SshSettings(host, port, user, identity, knownHosts, maxConnections, maxChannels,
        connect, keepAlive, age, command);
  }

  static Path defaultKnownHosts() {
    return Path.of(System.getProperty("user.home"), ".ssh", "known_hosts");
  }

  /** Expands a leading {@code ~} or {@code ~/} to the home of the user running the engine. */
  static Path path(String text) {
    if (text.equals("~")) {
      return Path.of(System.getProperty("user.home"));
    }
    if (text.startsWith("~/")) {
      return Path.of(System.getProperty("user.home"), text.substring(2));
    }
    return Path.of(text);
  }

  private static String requiredString(Map<String, ?> block, String key)
      throws ConfigurationException {
    var v = block.get(key);
    if (v == null) {
      throw new ConfigurationException("ssh transport: '" + key + "' is required");
    }
    if (!(v instanceof String s) || s.isBlank()) {
      throw new ConfigurationException("ssh transport: '" + key
          + "' must be a non-empty string, not " + describeValue(v));
    }
    return s.strip();
  }

  private static int integer(Map<String, ?> block, String key, int dflt, int min, int max)
      throws ConfigurationException {
    var v = block.get(key);
    if (v == null) {
      return dflt;
    }
    long n;
    if (v instanceof Integer || v instanceof Long || v instanceof Short) {
      n = ((Number) v).longValue();
    } else if (v instanceof String s && s.strip().matches("-?\\d{1,9}")) {
      n = Long.parseLong(s.strip());
    } else {
      throw new ConfigurationException("ssh transport: '" + key + "' must be a whole number, not "
          + describeValue(v));
    }
    if (n < min || n > max) {
      throw new ConfigurationException("ssh transport: '" + key + "' must be between " + min
          + " and " + max + ", not " + n);
    }
    return (int) n;
  }

  private static Duration duration(Map<String, ?> block, String key, Duration dflt)
      throws ConfigurationException {
    var v = block.get(key);
    if (v == null) {
      return dflt;
    }
    var parsed = v instanceof Integer || v instanceof Long
        ? java.util.Optional.of(Duration.ofSeconds(((Number) v).longValue()))
        : v instanceof String s ? Durations.parse(s) : java.util.Optional.<Duration>empty();
    if (parsed.isEmpty() || parsed.get().isNegative() || parsed.get().isZero()) {
      throw new ConfigurationException("ssh transport: '" + key
          + "' must be a positive duration such as 10s, 1m30s or 600, not " + describeValue(v));
    }
    return parsed.get();
  }

  private static String describeValue(Object v) {
    return v instanceof String s ? "'" + s + "'"
        : v + " (" + v.getClass().getSimpleName().toLowerCase(Locale.ROOT) + ")";
  }
}
