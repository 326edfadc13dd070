package org.jobyard.engine.transport.ssh;

import com.jcraft.jsch.Channel;
import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchChangedHostKeyException;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.JSchHostKeyException;
import com.jcraft.jsch.JSchUnknownHostKeyException;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.SftpException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.Transport;
import org.jobyard.api.TransportException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one owner of the engine's SSH connections to one host (DESIGN.md, principle 6).
 *
 * <p>It holds at most {@link SshSettings#maxConnections()} JSch sessions and multiplexes up to
 * the server's channel limit on each (sshd's {@code MaxSessions}, found by probing the first
 * connection: channels are opened until the server refuses one). Connections are opened lazily,
 * one handshake at a time, so that neither the first burst of work nor a reconnect after an
 * outage floods the login node: when the host goes away, every caller waits on the same attempt,
 * retried with back-off, and gives up after {@link SshSettings#connectTimeout()} with a
 * retryable error. Connections older than {@link SshSettings#maxConnectionAge()} take no new
 * work and are closed once their last channel ends.
 *
 * <p>Host keys are checked against the configured known_hosts file only; an unknown or changed
 * key is refused with a non-retryable error. Authentication uses the identity file only.
 */
public final class SshTransport implements Transport, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SshTransport.class);

  /** Stop probing here: a server without a limit would otherwise take unbounded channels. */
  static final int PROBE_CAP = 64;
  private static final int STDIN_INLINE_LIMIT = 64 * 1024;
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
  /** Attempts to place a command whose channel could not be opened (nothing ran remotely). */
  private static final int OPEN_ATTEMPTS = 10;

  private final SshSettings settings;
  private final String description;
  private final JSch jsch;
  private final ScheduledExecutorService timer;
  private final ExecutorService workers;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  // Everything below is guarded by lock.
  private final List<Conn> conns = new ArrayList<>();
  private boolean handshaking;
  private int channelLimit;
  private int probedChannels;
  private long attempts;
  private TransportException lastFailure;
  private long lastFailureAttempt;
  private int failureStreak;
  private long nextAttemptNanos = System.nanoTime();
  private boolean hostLost;
  private long lostSinceNanos;
  private boolean closed;
  /** Clusters sharing this pool (guarded by {@code lock}); the last to close it closes it. */
  private int users = 1;
  private int nextConnId = 1;
  private long handshakes;
  private long waits;
  private long failures;
  private long reconnects;
  private long rotations;
  private long channelRefusals;

  private SshTransport(SshSettings settings, JSch jsch) {
    this.settings = settings;
    this.description = settings.describe();
    this.jsch = jsch;
    this.channelLimit = settings.maxChannelsPerConnection();
    var n = new AtomicInteger();
    var name = "jobyard-ssh-" + settings.host() + ":" + settings.port();
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, name + "-timer"));
    int hint = settings.maxChannelsPerConnection() > 0 ? settings.maxChannelsPerConnection() : 8;
    this.workers = Executors.newFixedThreadPool(Math.min(64, settings.maxConnections() * hint),
        r -> daemon(r, name + "-" + n.incrementAndGet()));
    long every = Math.max(1, settings.keepAliveInterval().toMillis());
    timer.scheduleWithFixedDelay(this::housekeep, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * A transport for the host; no connection is made until the first command. Fails at once
   * (non-retryable) when the identity or known_hosts file cannot be read.
   */
  public static SshTransport open(SshSettings settings) throws TransportException {
    var jsch = new JSch();
    if (!Files.isReadable(settings.knownHosts())) {
      throw new TransportException(settings.describe() + ": known_hosts file "
          + settings.knownHosts() + " does not exist or is not readable; create it with the "
          + "host's key after checking its fingerprint: ssh-keyscan -p " + settings.port() + " "
          + settings.host() + " >> " + settings.knownHosts(), false);
    }
    if (settings.agent() != null) {
      useAgent(jsch, settings);
    } else if (!Files.isReadable(settings.identity())) {
      throw new TransportException(settings.describe() + ": identity file "
          + settings.identity() + " does not exist or is not readable", false);
    }
    try {
      jsch.setKnownHosts(settings.knownHosts().toString());
      if (settings.agent() == null) {
        jsch.addIdentity(settings.identity().toString());
      }
    } catch (JSchException e) {
      throw new TransportException(settings.describe() + ": cannot use identity "
          + settings.identity() + " or known_hosts " + settings.knownHosts() + ": "
          + e.getMessage() + " (keys must be ed25519, ECDSA or RSA without a passphrase)",
          false, e);
    }
    return new SshTransport(settings, jsch);
  }

  /**
   * Logs in with the keys an ssh-agent holds (a key with a passphrase stays unlocked in the
   * agent, never in the engine), over the JDK's Unix-domain sockets.
   */
  private static void useAgent(JSch jsch, SshSettings settings) throws TransportException {
    if (!Files.exists(settings.agent())) {
      throw new TransportException(settings.describe() + ": no ssh-agent socket at "
          + settings.agent() + "; start one (eval $(ssh-agent); ssh-add ~/.ssh/id_ed25519) in "
          + "the engine's environment, or give the transport an identity file", false);
    }
    try {
      var connector = new com.jcraft.jsch.SSHAgentConnector(
          new com.jcraft.jsch.UnixDomainSocketFactory(), settings.agent());
      if (!connector.isAvailable()) {
        throw new TransportException(settings.describe() + ": the ssh-agent at "
            + settings.agent() + " does not answer", false);
      }
      jsch.setIdentityRepository(new com.jcraft.jsch.AgentIdentityRepository(connector));
    } catch (com.jcraft.jsch.AgentProxyException e) {
      throw new TransportException(settings.describe() + ": cannot use the ssh-agent at "
          + settings.agent() + ": " + e.getMessage(), false, e);
    }
  }

  public SshSettings settings() {
    return settings;
  }

  public SshStats stats() {
    lock.lock();
    try {
      int inUse = 0;
      int open = 0;
      for (var c : conns) {
        inUse += c.inUse;
        open += c.session.isConnected() ? 1 : 0;
      }
      return new SshStats(open, inUse, handshakes, waits, failures, reconnects, rotations,
          channelRefusals, probedChannels);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public boolean sharesFilesystem() {
    return false;
  }

  @Override
  public String toString() {
    return "SshTransport[" + description + "]";
  }

  // ------------------------------------------------------------------------------ commands ---

  @Override
  public CommandResult run(Command command) throws TransportException {
    var timeout = command.timeout();
    long deadline = System.nanoTime() + timeout.toNanos();
    var line = command.toShellLine();
    for (int attempt = 1; ; attempt++) {
      var conn = acquire(timeout);
      ChannelExec channel = null;
      try {
        channel = (ChannelExec) conn.session.openChannel("exec");
        channel.setCommand(line.getBytes(StandardCharsets.UTF_8));
        var stderr = new ByteArrayOutputStream();
        channel.setErrStream(stderr, true);
        var stdout = channel.getInputStream();
        var stdin = channel.getOutputStream();
        channel.connect(openTimeoutMillis());
        log.debug("{} conn#{}: running {}", description, conn.id, abbreviate(line));
        return execute(conn, channel, command, stdin, stdout, stderr, deadline);
      } catch (JSchException e) {
        // The exec request never reached the server, so trying again cannot run it twice.
        if (!notSent(e) || attempt >= OPEN_ATTEMPTS || System.nanoTime() - deadline >= 0) {
          throw lostOrFailed(conn, "cannot start " + abbreviate(line), e);
        }
        openRefused(conn, e, attempt);
      } catch (IOException e) {
        throw lostOrFailed(conn, "cannot start " + abbreviate(line), e);
      } finally {
        if (channel != null) {
          channel.disconnect();
        }
        release(conn);
      }
      pause(attempt);
    }
  }

  @Override
  public CompletableFuture<CommandResult> start(Command command) throws TransportException {
    var future = new CompletableFuture<CommandResult>();
    try {
      workers.execute(() -> {
        try {
          future.complete(run(command));
        } catch (Throwable e) {
          future.completeExceptionally(e);
        }
      });
    } catch (RejectedExecutionException e) {
      throw new TransportException(description + " is closed", false, e);
    }
    return future;
  }

  private CommandResult execute(Conn conn, ChannelExec channel, Command command,
      OutputStream stdin, InputStream stdout, ByteArrayOutputStream stderr, long deadline)
      throws TransportException {
    var timedOut = new AtomicBoolean();
    long remaining = Math.max(1, deadline - System.nanoTime());
    var killer = timer.schedule(() -> {
      timedOut.set(true);
      try {
        channel.sendSignal("KILL"); // sshd signals the command's process group
      } catch (Exception e) {
        log.debug("{}: cannot signal a timed-out command: {}", description, e.toString());
      }
      channel.disconnect();
    }, remaining, TimeUnit.NANOSECONDS);
    byte[] out;
    try {
      writeStdin(command.stdin(), stdin);
      out = stdout.readAllBytes();
      waitForClose(channel, deadline);
    } catch (IOException e) {
      if (timedOut.get()) {
        throw timeout(command);
      }
      throw lostOrFailed(conn, "lost the output of " + abbreviate(command.toShellLine()), e);
    } finally {
      killer.cancel(false);
    }
    if (timedOut.get() || (!channel.isClosed() && System.nanoTime() >= deadline)) {
      throw timeout(command);
    }
    int exit = channel.getExitStatus();
    if (exit == -1 && sessionDying(conn.session)) {
      throw new TransportException(description + ": the connection was lost while running "
          + abbreviate(command.toShellLine()) + "; it may or may not have run", true);
    }
    // -1 with the connection alive: killed by a signal (sshd reports no exit status then)
    return new CommandResult(exit, new String(out, StandardCharsets.UTF_8),
        stderr.toString(StandardCharsets.UTF_8));
  }

  private void writeStdin(byte[] bytes, OutputStream stdin) throws IOException {
    if (bytes.length <= STDIN_INLINE_LIMIT) {
      // fits in the server's window: cannot block on a command that does not read yet
      try (stdin) {
        stdin.write(bytes);
      }
      return;
    }
    workers.execute(() -> {
      try (stdin) {
        stdin.write(bytes);
      } catch (IOException e) {
        log.debug("{}: command stopped reading its input: {}", description, e.toString());
      }
    });
  }

  /** Standard output has ended; the exit status follows in a moment, with the channel close. */
  private static void waitForClose(Channel channel, long deadline) throws IOException {
    long pause = 50_000;
    while (!channel.isClosed() && System.nanoTime() < deadline) {
      if (!channel.isConnected()) {
        break;
      }
      LockSupport.parkNanos(pause);
      pause = Math.min(pause * 2, 10_000_000);
    }
  }

  /**
   * No exit status: the command died of a signal, or the connection is going down. JSch closes
   * the channels of a dead connection a moment before it marks the session disconnected, so
   * give it that moment.
   */
  private static boolean sessionDying(Session session) {
    long until = System.nanoTime() + 300_000_000L;
    long pause = 100_000;
    while (session.isConnected()) {
      if (System.nanoTime() - until >= 0) {
        return false;
      }
      LockSupport.parkNanos(pause);
      pause = Math.min(pause * 2, 20_000_000);
    }
    return true;
  }

  private TransportException timeout(Command command) {
    return new TransportException(description + ": command timed out after "
        + command.timeout().toSeconds() + "s and was killed: "
        + abbreviate(command.toShellLine()), true);
  }

  // ---------------------------------------------------------------------------------- files ---

  @Override
  public void upload(Path local, String remotePath) throws TransportException {
    checkRemotePath(remotePath);
    if (!Files.isRegularFile(local)) {
      throw new TransportException("cannot upload " + local + " to " + description + ":"
          + remotePath + ": no such file", false);
    }
    sftp("upload " + local + " to " + remotePath, sftp -> {
      var slash = remotePath.lastIndexOf('/');
      if (slash > 0) {
        mkdirs(sftp, remotePath.substring(0, slash));
      }
      try (var in = Files.newInputStream(local)) {
        sftp.put(in, globQuote(remotePath), ChannelSftp.OVERWRITE);
      }
      return null;
    });
  }

  @Override
  public void download(String remotePath, Path local) throws TransportException {
    checkRemotePath(remotePath);
    try {
      var parent = local.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (IOException e) {
      throw new TransportException("cannot create the folder for " + local + ": " + e, false, e);
    }
    sftp("download " + remotePath + " to " + local, sftp -> {
      var tmp = Files.createTempFile(local.toAbsolutePath().getParent(), ".jobyard-", ".part");
      try {
        try (var out = Files.newOutputStream(tmp)) {
          sftp.get(globQuote(remotePath), out);
        }
        Files.move(tmp, local, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(tmp);
      }
      return null;
    });
  }

  private interface SftpWork<T> {
    T apply(ChannelSftp sftp) throws SftpException, IOException;
  }

  private <T> T sftp(String what, SftpWork<T> work) throws TransportException {
    for (int attempt = 1; ; attempt++) {
      var conn = acquire(settings.commandTimeout());
      ChannelSftp channel = null;
      try {
        channel = (ChannelSftp) conn.session.openChannel("sftp");
        channel.connect(openTimeoutMillis());
        log.debug("{} conn#{}: {}", description, conn.id, what);
        return work.apply(channel);
      } catch (JSchException e) {
        if (!notSent(e) || attempt >= OPEN_ATTEMPTS) {
          throw lostOrFailed(conn, "cannot " + what, e);
        }
        openRefused(conn, e, attempt);
      } catch (SftpException e) {
        if (!conn.session.isConnected() || e.id == ChannelSftp.SSH_FX_CONNECTION_LOST
            || e.id == ChannelSftp.SSH_FX_NO_CONNECTION) {
          throw lostOrFailed(conn, "cannot " + what, e);
        }
        throw new TransportException(description + ": cannot " + what + ": " + sftpMessage(e),
            false, e);
      } catch (IOException e) {
        throw new TransportException(description + ": cannot " + what + ": " + e, false, e);
      } finally {
        if (channel != null) {
          channel.disconnect();
        }
        release(conn);
      }
      pause(attempt);
    }
  }

  /** Creates the folder and its parents; relative paths start in the login home. */
  private static void mkdirs(ChannelSftp sftp, String dir) throws SftpException {
    var path = new StringBuilder(dir.startsWith("/") ? "/" : "");
    for (var part : dir.split("/")) {
      if (part.isEmpty()) {
        continue;
      }
      if (!path.isEmpty() && path.charAt(path.length() - 1) != '/') {
        path.append('/');
      }
      path.append(part);
      var p = path.toString();
      try {
        if (!sftp.stat(globQuote(p)).isDir()) {
          throw new SftpException(ChannelSftp.SSH_FX_FAILURE, p + " exists and is not a folder");
        }
      } catch (SftpException e) {
        if (e.id != ChannelSftp.SSH_FX_NO_SUCH_FILE) {
          throw e;
        }
        try {
          sftp.mkdir(p); // mkdir takes the name as it is, unlike stat/put/get
        } catch (SftpException race) {
          if (!sftp.stat(globQuote(p)).isDir()) {
            throw race;
          }
        }
      }
    }
  }

  /** JSch expands {@code *} and {@code ?} in remote names and drops backslashes; undo both. */
  static String globQuote(String path) {
    var sb = new StringBuilder(path.length() + 8);
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '\\' || c == '*' || c == '?') {
        sb.append('\\');
      }
      sb.append(c);
    }
    return sb.toString();
  }

  private void checkRemotePath(String remotePath) throws TransportException {
    if (remotePath == null || remotePath.isEmpty() || remotePath.indexOf('\0') >= 0) {
      throw new TransportException(description + ": a remote path must be non-empty and "
          + "without NUL characters", false);
    }
  }

  private static String sftpMessage(SftpException e) {
    return switch (e.id) {
      case ChannelSftp.SSH_FX_NO_SUCH_FILE -> "no such file (" + e.getMessage() + ")";
      case ChannelSftp.SSH_FX_PERMISSION_DENIED -> "permission denied (" + e.getMessage() + ")";
      default -> e.getMessage();
    };
  }

  // ----------------------------------------------------------------------------------- pool ---

  private static final class Conn {
    final int id;
    final Session session;
    final long createdNanos = System.nanoTime();
    int inUse;
    boolean retired;

    Conn(int id, Session session) {
      this.id = id;
      this.session = session;
    }
  }

  /**
   * A channel slot on a live connection. Waits while the pool is full (up to the command's own
   * timeout) or the host is away (up to the connect timeout).
   */
  private Conn acquire(Duration slotWait) throws TransportException {
    long start = System.nanoTime();
    long hostDeadline = start + settings.connectTimeout().toNanos();
    long slotDeadline = start + Math.max(slotWait.toNanos(), settings.connectTimeout().toNanos());
    boolean waited = false;
    lock.lock();
    try {
      long seen = attempts;
      while (true) {
        if (closed) {
          throw new TransportException(description + " is closed", false);
        }
        var toClose = prune();
        if (!toClose.isEmpty()) {
          timer.execute(() -> toClose.forEach(Session::disconnect));
        }
        long now = System.nanoTime();
        var best = leastLoaded();
        boolean canGrow = !handshaking && conns.size() < settings.maxConnections();
        boolean mayAttempt = canGrow && now - nextAttemptNanos >= 0;
        if (best != null && (best.inUse == 0 || !mayAttempt)) {
          best.inUse++;
          return best;
        }
        if (lastFailure != null && lastFailureAttempt > seen && !lastFailure.isRetryable()) {
          throw lastFailure; // a host key or login refusal will not change by waiting
        }
        boolean noConnection = best == null && live() == 0;
        long deadline = noConnection ? hostDeadline : slotDeadline;
        if (now - deadline >= 0) {
          throw noConnection ? unreachable(start) : new TransportException(description
              + ": all " + settings.maxConnections() + " connections busy for "
              + Duration.ofNanos(now - start).toSeconds() + "s", true);
        }
        if (mayAttempt) {
          var conn = handshakeUnlocked(Math.min(deadline - now,
              settings.connectTimeout().toNanos()));
          if (conn != null) {
            conn.inUse++;
            return conn;
          }
          continue;
        }
        if (!waited) {
          waited = true;
          waits++;
        }
        long until = deadline;
        if (canGrow && nextAttemptNanos - until < 0) {
          until = nextAttemptNanos;
        }
        changed.awaitNanos(Math.max(until - now, 1_000_000));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransportException(description + ": interrupted while waiting for a connection",
          true, e);
    } finally {
      lock.unlock();
    }
  }

  private void release(Conn conn) {
    List<Session> toClose;
    lock.lock();
    try {
      conn.inUse--;
      toClose = prune();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    toClose.forEach(Session::disconnect);
  }

  private Conn leastLoaded() {
    Conn best = null;
    for (var c : conns) {
      if (!c.retired && c.inUse < channelLimitOrOne() && (best == null || c.inUse < best.inUse)) {
        best = c;
      }
    }
    return best;
  }

  private int channelLimitOrOne() {
    return Math.max(1, channelLimit);
  }

  private int live() {
    int n = 0;
    for (var c : conns) {
      if (!c.retired) {
        n++;
      }
    }
    return n;
  }

  /** Drops dead connections, retires old ones, and returns idle retired ones to disconnect. */
  private List<Session> prune() {
    var toClose = new ArrayList<Session>();
    long now = System.nanoTime();
    for (var it = conns.iterator(); it.hasNext(); ) {
      var c = it.next();
      if (!c.session.isConnected()) {
        it.remove();
        changed.signalAll();
        if (!c.retired && !closed) {
          if (!hostLost) {
            hostLost = true;
            lostSinceNanos = now;
          }
          log.info("{}: connection #{} lost ({} still open); the next command reconnects",
              description, c.id, conns.size());
        }
        continue;
      }
      if (!c.retired && now - c.createdNanos - settings.maxConnectionAge().toNanos() >= 0) {
        c.retired = true;
        rotations++;
        log.info("{}: rotating connection #{} after {}; it takes no new work and closes when its "
            + "{} channel(s) end", description, c.id, human(settings.maxConnectionAge()), c.inUse);
      }
      if (c.retired && c.inUse == 0) {
        it.remove();
        toClose.add(c.session);
        changed.signalAll();
      }
    }
    return toClose;
  }

  /**
   * Opens one connection, with the lock released. Only one caller does this at a time; the
   * others wait on {@link #changed} and share its outcome. Returns null on a retryable failure.
   */
  private Conn handshakeUnlocked(long budgetNanos) throws TransportException {
    handshaking = true;
    int id = nextConnId++;
    boolean probe = channelLimit == 0;
    Session session = null;
    TransportException failure = null;
    int probed = 0;
    lock.unlock();
    try {
      session = connect(budgetNanos);
      if (probe) {
        probed = probeChannels(session);
      }
    } catch (TransportException e) {
      failure = e;
      if (session != null) {
        session.disconnect();
        session = null;
      }
    } finally {
      lock.lock();
      handshaking = false;
      attempts++;
      changed.signalAll();
    }
    long now = System.nanoTime();
    if (failure != null) {
      failures++;
      failureStreak++;
      lastFailure = failure;
      lastFailureAttempt = attempts;
      var backoff = backoff(failureStreak);
      nextAttemptNanos = now + backoff.toNanos();
      if (failure.isRetryable() && !hostLost) {
        hostLost = true;
        lostSinceNanos = now;
      }
      if (!failure.isRetryable()) {
        log.warn("{}", failure.getMessage());
      } else if (failureStreak == 1) {
        log.info("{}; retrying with back-off for up to {}", failure.getMessage(),
            human(settings.connectTimeout()));
      } else {
        log.debug("{}: connection attempt {} failed, next in {}ms: {}", description,
            failureStreak, backoff.toMillis(), failure.getMessage());
      }
      if (!failure.isRetryable()) {
        throw failure;
      }
      return null;
    }
    if (closed) {
      session.disconnect();
      throw new TransportException(description + " is closed", false);
    }
    if (probe && channelLimit == 0) {
      probedChannels = probed;
      channelLimit = probed;
    }
    var conn = new Conn(id, session);
    conns.add(conn);
    handshakes++;
    failureStreak = 0;
    lastFailure = null;
    nextAttemptNanos = now;
    if (hostLost) {
      reconnects++;
      hostLost = false;
      log.info("{}: reconnected (connection #{}) after {}ms away", description, id,
          Duration.ofNanos(now - lostSinceNanos).toMillis());
    } else {
      log.info("{}: connected (connection #{}, {} of at most {}, {} channels each{})",
          description, id, conns.size(), settings.maxConnections(), channelLimit,
          probe ? ", probed" : "");
    }
    return conn;
  }

  private static Duration backoff(int streak) {
    long ms = FIRST_BACKOFF.toMillis() << Math.min(streak - 1, 10);
    return Duration.ofMillis(Math.min(ms, MAX_BACKOFF.toMillis()));
  }

  private Session connect(long budgetNanos) throws TransportException {
    int timeoutMs = (int) Math.max(1000, Math.min(Integer.MAX_VALUE, budgetNanos / 1_000_000));
    var jump = settings.jump() == null ? null : jumpSession(timeoutMs);
    try {
      return connect(timeoutMs, jump);
    } catch (TransportException e) {
      if (jump != null) {
        jump.disconnect(); // the target refused: nothing may stay open on the jump host
      }
      throw e;
    }
  }

  private Session connect(int timeoutMs, Session jump) throws TransportException {
    Session session;
    try {
      session = session(settings.user(), settings.host(), settings.port());
      if (jump != null) {
        session.setProxy(new JumpProxy(jump));
      }
      session.connect(timeoutMs);
    } catch (JSchUnknownHostKeyException e) {
      throw new TransportException(description + ": host key refused: " + settings.host()
          + " (port " + settings.port() + ") is not in " + settings.knownHosts() + " ("
          + e.getMessage() + "). Check the fingerprint with the host's administrator, then add "
          + "it: ssh-keyscan -p " + settings.port() + " " + settings.host() + " >> "
          + settings.knownHosts(), false, e);
    } catch (JSchChangedHostKeyException e) {
      throw new TransportException(description + ": host key refused: the key presented by "
          + settings.host() + " (port " + settings.port() + ") does not match the one in "
          + settings.knownHosts() + " (" + e.getMessage() + "). This can be an attack; if the "
          + "host was reinstalled, check the new fingerprint, remove the old line (ssh-keygen -R '["
          + settings.host() + "]:" + settings.port() + "' -f " + settings.knownHosts()
          + ") and add the new key: ssh-keyscan -p " + settings.port() + " " + settings.host()
          + " >> " + settings.knownHosts(), false, e);
    } catch (JSchHostKeyException e) {
      throw new TransportException(description + ": host key refused by " + settings.knownHosts()
          + ": " + e.getMessage(), false, e);
    } catch (JSchException e) {
      var msg = String.valueOf(e.getMessage());
      if (msg.startsWith("Auth fail") || msg.contains("USERAUTH fail")) {
        throw authFailed(e);
      }
      throw new TransportException(description + ": cannot connect: " + causeText(e), true, e);
    }
    return session;
  }

  private TransportException authFailed(JSchException e) {
    return new TransportException(description + ": login refused for user " + settings.user()
        + " with " + settings.credential() + " (" + e.getMessage() + "); check that its "
        + "public key is in ~" + settings.user() + "/.ssh/authorized_keys on " + settings.host(),
        false, e);
  }

  /** A session set up for the handshake, not yet connected. */
  Session session(String user, String host, int port) throws JSchException {
    var session = jsch.getSession(user, host, port);
    session.setConfig("StrictHostKeyChecking", "yes");
    session.setConfig("PreferredAuthentications", "publickey");
    // JSch tries out every key exchange of CheckKexes at each handshake, proposed or not: the
    // post-quantum ones it never proposes by default (sntrup761 through Bouncy Castle, whose
    // signed jar is verified first) cost a cold JVM seconds on the first submit's path
    session.setConfig("CheckKexes", proposedOnly(session.getConfig("CheckKexes"),
        session.getConfig("kex")));
    session.setServerAliveInterval((int) settings.keepAliveInterval().toMillis());
    session.setServerAliveCountMax(3);
    session.setDaemonThread(true);
    return session;
  }

  /**
   * The key exchanges of {@code check} that {@code proposed} names, in check's order: JSch only
   * ever removes an unusable one from the proposal, so checking the others is wasted work.
   */
  static String proposedOnly(String check, String proposed) {
    if (check == null || proposed == null) {
      return check;
    }
    var offered = List.of(proposed.split(","));
    return String.join(",", java.util.Arrays.stream(check.split(","))
        .filter(offered::contains).toList());
  }

  /**
   * The connection to the jump host (OpenSSH's ProxyJump), with the same keys and known_hosts;
   * the target's connection is tunnelled through it and closes it when it closes.
   */
  private Session jumpSession(int timeoutMs) throws TransportException {
    var jump = settings.jump();
    try {
      var s = session(jump.user(), jump.host(), jump.port());
      s.connect(timeoutMs);
      return s;
    } catch (JSchHostKeyException e) {
      throw new TransportException(description + ": host key of the jump host " + jump.host()
          + " (port " + jump.port() + ") refused by " + settings.knownHosts() + " ("
          + e.getMessage() + "); check its fingerprint, then add it: ssh-keyscan -p "
          + jump.port() + " " + jump.host() + " >> " + settings.knownHosts(), false, e);
    } catch (JSchException e) {
      var msg = String.valueOf(e.getMessage());
      if (msg.startsWith("Auth fail") || msg.contains("USERAUTH fail")) {
        throw new TransportException(description + ": login to the jump host refused for "
            + jump.describe() + " with " + settings.credential() + " (" + msg + ")", false, e);
      }
      throw new TransportException(description + ": cannot reach the jump host "
          + jump.describe() + ": " + causeText(e), true, e);
    }
  }

  /** A jsch proxy that is a direct-tcpip channel of the jump host's connection. */
  private static final class JumpProxy implements com.jcraft.jsch.Proxy {
    private final Session jump;
    private Channel channel;
    private java.io.InputStream in;
    private java.io.OutputStream out;

    JumpProxy(Session jump) {
      this.jump = jump;
    }

    @Override
    public void connect(com.jcraft.jsch.SocketFactory factory, String host, int port,
        int timeout) throws Exception {
      channel = jump.getStreamForwarder(host, port);
      in = channel.getInputStream();
      out = channel.getOutputStream();
      channel.connect(timeout);
    }

    @Override
    public java.io.InputStream getInputStream() {
      return in;
    }

    @Override
    public java.io.OutputStream getOutputStream() {
      return out;
    }

    @Override
    public java.net.Socket getSocket() {
      return null;
    }

    @Override
    public void close() {
      if (channel != null) {
        channel.disconnect();
      }
      jump.disconnect();
    }
  }

  /**
   * Opens bare session channels on a fresh connection until the server refuses one, the way
   * COBalD/TARDIS finds sshd's {@code MaxSessions}; the channels are closed again at once.
   */
  private int probeChannels(Session session) throws TransportException {
    var open = new ArrayList<Channel>();
    try {
      while (open.size() < PROBE_CAP) {
        var ch = session.openChannel("session");
        try {
          ch.connect(openTimeoutMillis());
        } catch (JSchException e) {
          if (!session.isConnected()) {
            throw new TransportException(description + ": connection lost while probing its "
                + "channel limit", true, e);
          }
          break; // refused: the limit is what we hold
        }
        open.add(ch);
      }
    } catch (JSchException e) {
      throw new TransportException(description + ": cannot probe the channel limit: "
          + e.getMessage(), true, e);
    } finally {
      open.forEach(Channel::disconnect);
    }
    int n = Math.max(1, open.size());
    log.info("{}: the server allows {} channels per connection{}", description, n,
        open.size() >= PROBE_CAP ? " (probe stopped at its cap)" : "");
    return n;
  }

  /**
   * A channel could not be opened, so nothing ran. On a live connection the server was full:
   * sshd frees a closed channel's slot only after the close has been processed, so an open that
   * follows a close on a busy connection can still meet the old count. Counted, then retried.
   */
  private void openRefused(Conn conn, JSchException e, int attempt) {
    lock.lock();
    try {
      channelRefusals++;
    } finally {
      lock.unlock();
    }
    log.debug("{} conn#{}: channel open refused ({}), attempt {}", description, conn.id,
        e.getMessage(), attempt);
  }

  private static void pause(int attempt) {
    LockSupport.parkNanos(Math.min(1_000_000L << Math.min(attempt, 6), 50_000_000L));
  }

  private static boolean notSent(JSchException e) {
    var m = String.valueOf(e.getMessage());
    return m.contains("channel is not opened") || m.contains("session is down")
        || m.contains("open failed");
  }

  private TransportException lostOrFailed(Conn conn, String what, Exception e) {
    if (!conn.session.isConnected()) {
      return new TransportException(description + ": " + what + ": the connection was lost ("
          + causeText(e) + ")", true, e);
    }
    return new TransportException(description + ": " + what + ": " + causeText(e), true, e);
  }

  private TransportException unreachable(long startNanos) {
    var why = lastFailure == null ? "no connection could be made"
        : "last error: " + lastFailure.getMessage();
    return new TransportException(description + ": unreachable for "
        + Duration.ofNanos(System.nanoTime() - startNanos).toMillis() + "ms (connect timeout "
        + settings.connectTimeout().toSeconds() + "s); " + why, true, lastFailure);
  }

  private int openTimeoutMillis() {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(1000, settings.connectTimeout().toMillis()));
  }

  private void housekeep() {
    List<Session> toClose;
    lock.lock();
    try {
      toClose = prune();
    } finally {
      lock.unlock();
    }
    toClose.forEach(Session::disconnect);
  }

  /**
   * One more user of this pool (a second cluster on the same host and account): the pool closes
   * when the last of its users closes it.
   *
   * @throws IllegalStateException when the pool is already closed
   */
  public SshTransport share() {
    lock.lock();
    try {
      if (closed) {
        throw new IllegalStateException(description + ": the SSH pool is closed");
      }
      users++;
      return this;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Closes every connection once every user of the pool closed it; running commands fail with a
   * retryable error.
   */
  @Override
  public void close() {
    List<Conn> all;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      if (--users > 0) {
        return;
      }
      closed = true;
      all = List.copyOf(conns);
      conns.clear();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    workers.shutdownNow();
    timer.shutdownNow();
    all.forEach(c -> c.session.disconnect());
    log.info("{}: closed {} connection(s)", description, all.size());
  }

  private static String causeText(Throwable e) {
    var root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    var msg = String.valueOf(e.getMessage());
    return root == e ? msg : msg + " (" + root + ")";
  }

  private static String human(Duration d) {
    return d.toString().substring(2).toLowerCase(java.util.Locale.ROOT);
  }

  private static String abbreviate(String line) {
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }

  private static Thread daemon(Runnable r, String name) {
    var t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
