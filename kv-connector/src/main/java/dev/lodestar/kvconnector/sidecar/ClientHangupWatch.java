package dev.lodestar.kvconnector.sidecar;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Tells waiting requests when their client hangs up: one thread reads the socket table ({@link ClientConnections})
 * every period while any request is watched, and completes the {@link Watch#hungUp()} future of each watched
 * connection that is no longer established. A hang-up is thus seen within one period; the table is read once per
 * period whatever the number of waiting requests.
 */
final class ClientHangupWatch implements AutoCloseable {
    private final Duration period;
    private final Map<Watch, ClientConnections.Connection> watched = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread poller;

    ClientHangupWatch(Duration period) {
        this.period = period;
        this.poller = Thread.ofPlatform().daemon().name("sidecar-client-hangup-watch").start(this::poll);
    }

    /** Watches one client connection until the returned watch is closed. */
    Watch watch(SocketAddress local, SocketAddress remote) {
        Watch watch = new Watch();
        Optional<ClientConnections.Connection> connection = ClientConnections.Connection.of(local, remote);
        connection.ifPresent(key -> watched.put(watch, key));
        return watch;
    }

    private void poll() {
        while (!closed.get()) {
            try {
                Thread.sleep(period);
            } catch (InterruptedException e) {
                return;
            }
            if (watched.isEmpty()) {
                continue;
            }
            Optional<Set<ClientConnections.Connection>> established = ClientConnections.established();
            if (established.isEmpty()) {
                continue; // no socket table: nobody is ever reported gone
            }
            // Completed after the whole pass, so that whoever wakes up sees every connection of this read decided.
            List<Watch> hungUp = new ArrayList<>();
            watched.forEach((watch, connection) -> {
                if (!established.get().contains(connection)) {
                    hungUp.add(watch);
                }
            });
            hungUp.forEach(watched::remove);
            hungUp.forEach(watch -> watch.hungUp.complete(null));
        }
    }

    @Override
    public void close() {
        closed.set(true);
        poller.interrupt();
    }

    /** One watched connection. */
    final class Watch implements AutoCloseable {
        private final CompletableFuture<Void> hungUp = new CompletableFuture<>();

        /** Completes when the client has hung up. */
        CompletableFuture<Void> hungUp() {
            return hungUp;
        }

        boolean hasHungUp() {
            return hungUp.isDone();
        }

        @Override
        public void close() {
            watched.remove(this);
        }
    }
}
