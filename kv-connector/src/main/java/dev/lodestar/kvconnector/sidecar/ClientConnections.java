package dev.lodestar.kvconnector.sidecar;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which TCP connections are established, read from the kernel's socket table ({@code /proc/net/tcp} and
 * {@code tcp6}). A client that hung up leaves its connection in CLOSE_WAIT (or gone), without the server reading
 * from the socket: Helidon gives a handler no signal of a peer's close, and reading the socket ourselves would take
 * bytes that belong to the server. Reading the table costs about as much as the kernel's connection hash table is
 * large (milliseconds on big hosts), so {@link ClientHangupWatch} reads it once per period for every waiting request.
 */
public final class ClientConnections {
    private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));
    private static final String ESTABLISHED = "01";

    private ClientConnections() {
    }

    /** One connection, seen from its server side. */
    public record Connection(InetSocketAddress local, InetSocketAddress remote) {
        /** Empty for addresses that are not IP sockets. */
        public static Optional<Connection> of(SocketAddress local, SocketAddress remote) {
            return local instanceof InetSocketAddress localIp && remote instanceof InetSocketAddress remoteIp
                    ? Optional.of(new Connection(new InetSocketAddress(localIp.getAddress(), localIp.getPort()),
                    new InetSocketAddress(remoteIp.getAddress(), remoteIp.getPort())))
                    : Optional.empty();
        }
    }

    /** What the socket table says of one connection. */
    public enum State {
        /** Established: the client has not closed its side. */
        OPEN,
        /** Closing or closed by the client, or no longer in the table. */
        CLOSED,
        /** No socket table here (not Linux): assume open. */
        UNKNOWN
    }

    /** The established connections now; empty when there is no socket table to read. */
    public static Optional<Set<Connection>> established() {
        Set<Connection> connections = new HashSet<>();
        boolean anyTable = false;
        for (Path table : TABLES) {
            List<String> lines;
            try {
                lines = Files.readAllLines(table);
            } catch (IOException | SecurityException e) {
                continue;
            }
            anyTable = true;
            for (int i = 1; i < lines.size(); i++) {
                String[] fields = lines.get(i).strip().split("\\s+");
                if (fields.length < 4 || !fields[3].equals(ESTABLISHED)) {
                    continue;
                }
                Optional<InetSocketAddress> local = address(fields[1]);
                Optional<InetSocketAddress> remote = address(fields[2]);
                if (local.isPresent() && remote.isPresent()) {
                    connections.add(new Connection(local.get(), remote.get()));
                }
            }
        }
        return anyTable ? Optional.of(connections) : Optional.empty();
    }

    /** The state of one connection now (one read of the table). */
    public static State state(SocketAddress local, SocketAddress remote) {
        Optional<Connection> connection = Connection.of(local, remote);
        Optional<Set<Connection>> established = established();
        if (connection.isEmpty() || established.isEmpty()) {
            return State.UNKNOWN;
        }
        return established.get().contains(connection.get()) ? State.OPEN : State.CLOSED;
    }

    /** {@code HEXADDR:HEXPORT}, the address as 32-bit words in host (little-endian) byte order. */
    private static Optional<InetSocketAddress> address(String entry) {
        int colon = entry.indexOf(':');
        if (colon < 0) {
            return Optional.empty();
        }
        try {
            byte[] raw = HexFormat.of().parseHex(entry.substring(0, colon));
            for (int word = 0; word + 4 <= raw.length; word += 4) {
                byte b0 = raw[word];
                byte b1 = raw[word + 1];
                raw[word] = raw[word + 3];
                raw[word + 1] = raw[word + 2];
                raw[word + 2] = b1;
                raw[word + 3] = b0;
            }
            // A v4-mapped v6 address comes back as the v4 address, as Java reports peers of a dual-stack socket.
            return Optional.of(new InetSocketAddress(InetAddress.getByAddress(raw),
                    Integer.parseInt(entry.substring(colon + 1), 16)));
        } catch (IllegalArgumentException | UnknownHostException e) {
            return Optional.empty();
        }
    }
}
