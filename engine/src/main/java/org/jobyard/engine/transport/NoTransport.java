package org.jobyard.engine.transport;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.Transport;
import org.jobyard.api.TransportException;

/**
 * The engine's stand-in for a cluster without a transport ({@code transport: none}, or a REST
 * backend that names none): shown as {@code none}, and refusing every use with the cluster's name.
 * Backends never see it: their context holds no transport.
 */
public final class NoTransport implements Transport {
  private final String cluster;

  public NoTransport(String cluster) {
    this.cluster = cluster;
  }

  @Override
  public CommandResult run(Command command) throws TransportException {
    throw refused();
  }

  @Override
  public CompletableFuture<CommandResult> start(Command command) throws TransportException {
    throw refused();
  }

  @Override
  public void upload(Path local, String remotePath) throws TransportException {
    throw refused();
  }

  @Override
  public void download(String remotePath, Path local) throws TransportException {
    throw refused();
  }

  @Override
  public boolean sharesFilesystem() {
    return false;
  }

  @Override
  public String describe() {
    return "none";
  }

  private TransportException refused() {
    return new TransportException("cluster '" + cluster + "' has no transport (transport: none)",
        false);
  }
}
