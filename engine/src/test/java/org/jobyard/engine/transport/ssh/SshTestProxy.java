package org.jobyard.engine.transport.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay in front of sshd that a test can cut (every connection reset, the port closed,
 * as when a host goes away) and bring back on the same port. It stands in for killing sshd:
 * killing sshd's listener leaves established sessions alive, and other tests share that sshd.
 */
final class SshTestProxy implements AutoCloseable {
  private final String targetHost;
  private final int targetPort;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile ServerSocket server;
  private final int port;

  SshTestProxy(String targetHost, int targetPort) throws IOException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.port = listen(0);
  }

  int port() {
    return port;
  }

  /** Resets every relayed connection and stops listening: connects are refused. */
  synchronized void cut() throws IOException {
    server.close();
    for (var s : sockets) {
      try {
        s.setSoLinger(true, 0); // RST, like a host that went away
        s.close();
      } catch (IOException ignored) {
        // already gone
      }
    }
    sockets.clear();
  }

  /** Listens again on the same port. */
  synchronized void resume() throws IOException {
    listen(port);
  }

  private int listen(int onPort) throws IOException {
    var ss = new ServerSocket();
    ss.setReuseAddress(true);
    ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), onPort));
    server = ss;
    var t = new Thread(() -> accept(ss), "ssh-test-proxy-accept");
    t.setDaemon(true);
    t.start();
    return ss.getLocalPort();
  }

  private void accept(ServerSocket ss) {
    while (!ss.isClosed()) {
      try {
        var client = ss.accept();
        var upstream = new Socket(targetHost, targetPort);
        sockets.add(client);
        sockets.add(upstream);
        pump(client.getInputStream(), upstream.getOutputStream(), client, upstream);
        pump(upstream.getInputStream(), client.getOutputStream(), client, upstream);
      } catch (IOException e) {
        // closed by cut(), or sshd refused: the client sees its connection end
      }
    }
  }

  private void pump(InputStream in, OutputStream out, Socket a, Socket b) {
    var t = new Thread(() -> {
      var buf = new byte[16384];
      try {
        int n;
        while ((n = in.read(buf)) >= 0) {
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException ignored) {
        // one side closed
      } finally {
        closeQuietly(a);
        closeQuietly(b);
      }
    }, "ssh-test-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }

  @Override
  public void close() throws IOException {
    cut();
  }
}
