package org.jobyard.api;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * Runs commands and moves files on a cluster's submit host: the engine's own machine (the local
 * transport) or a remote one over SSH. Provided by the engine; a backend never opens connections
 * of its own. Safe for use from many threads.
 *
 * <p>Commands are argument vectors, never shell text: the transport quotes every argument for
 * the remote POSIX shell, so quotes, {@code $()}, backticks, newlines and globs arrive unchanged.
 * To run a shell script, pass {@code sh -c SCRIPT} and quote what goes into it with {@link
 * ShellQuoting#quote}.
 */
public interface Transport {

  /** Runs a command to completion. A non-zero exit is a result, not an exception. */
  CommandResult run(Command command) throws TransportException;

  /**
   * Starts a command and returns at once; the future completes with its result when it ends. For
   * a process that must outlive the engine, detach it in the command itself ({@code setsid}).
   */
  CompletableFuture<CommandResult> start(Command command) throws TransportException;

  /** Copies a local file to {@code remotePath}, creating parent directories. */
  void upload(Path local, String remotePath) throws TransportException;

  /** Copies {@code remotePath} to a local file, creating parent directories. */
  void download(String remotePath, Path local) throws TransportException;

  /**
   * Whether paths on the remote side name the same files as on the engine's machine (the local
   * transport), so that outputs need not be fetched.
   */
  boolean sharesFilesystem();

  /** For messages and logs: {@code local} or {@code ssh://user@host:port}. */
  String describe();
}
