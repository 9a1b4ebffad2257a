package dev.lodestar.kvconnector.transfer;

import java.time.Duration;

/**
 * A completed pull.
 *
 * @param bytes     bytes copied
 * @param blocks    blocks copied
 * @param gets      one-sided RMA gets issued (contiguous runs of blocks on both sides are one get)
 * @param handshake whether this pull made the handshake (the first pull from that engine) rather than reuse it
 * @param duration  from the call to the notification's send completing, handshake included
 */
public record PullResult(long bytes, int blocks, int gets, boolean handshake, Duration duration) {

    /** Bytes per second over {@link #duration()}. */
    public double bytesPerSecond() {
        long nanos = Math.max(1, duration.toNanos());
        return bytes * 1e9 / nanos;
    }
}
