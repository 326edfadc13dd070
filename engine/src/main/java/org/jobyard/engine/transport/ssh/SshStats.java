package org.jobyard.engine.transport.ssh;

/**
 * A snapshot of one {@link SshTransport}'s pool, for logs, health checks and tests.
 *
 * @param connectionsOpen SSH connections currently held (draining ones included)
 * @param channelsInUse commands and transfers running now
 * @param handshakes connections established since the transport was opened
 * @param waits callers that found no free channel and had to wait for one
 * @param failures connection attempts that failed
 * @param reconnects times the host came back after it had gone away (one per outage)
 * @param rotations connections retired because they reached their maximum age
 * @param channelRefusals channel opens the server refused on a live connection, then retried
 *     (sshd frees a closed channel's slot a moment late)
 * @param probedMaxChannels channels per connection the server allows, as probed (0 before the
 *     first connection, or when the limit was configured instead)
 */
public record SshStats(int connectionsOpen, int channelsInUse, long handshakes, long waits,
    long failures, long reconnects, long rotations, long channelRefusals, int probedMaxChannels) {}
