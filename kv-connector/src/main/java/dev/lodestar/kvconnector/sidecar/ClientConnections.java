package dev.lodestar.kvconnector.sidecar;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;

/**
 * Whether a client's TCP connection is still open, read from the kernel's socket table ({@code /proc/net/tcp} and
 * {@code tcp6}). The sidecar asks before the decode leg: a client that hung up during the prefill gets no decode
 * (which would otherwise run to the end for nobody). Helidon gives a handler no signal of a peer's close, and reading
 * the socket ourselves would take bytes that belong to the server; the socket table shows the close (the
 * connection is in CLOSE_WAIT, or gone) without touching the socket.
 */
public final class ClientConnections {
    private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));
    private static final String ESTABLISHED = "01";

    private ClientConnections() {
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

    /**
     * @param local  the server side of the connection (the sidecar's address and port)
     * @param remote the client side
     */
    public static State state(SocketAddress local, SocketAddress remote) {
        if (!(local instanceof InetSocketAddress localAddress) || !(remote instanceof InetSocketAddress remoteAddress)) {
            return State.UNKNOWN;
        }
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
                if (fields.length < 4) {
                    continue;
                }
                if (matches(fields[1], localAddress) && matches(fields[2], remoteAddress)) {
                    return fields[3].equals(ESTABLISHED) ? State.OPEN : State.CLOSED;
                }
            }
        }
        return anyTable ? State.CLOSED : State.UNKNOWN;
    }

    /** {@code HEXADDR:HEXPORT}, the address as 32-bit words in host (little-endian) byte order. */
    private static boolean matches(String entry, InetSocketAddress address) {
        int colon = entry.indexOf(':');
        if (colon < 0 || Integer.parseInt(entry.substring(colon + 1), 16) != address.getPort()) {
            return false;
        }
        byte[] raw = HexFormat.of().parseHex(entry.substring(0, colon));
        for (int word = 0; word + 4 <= raw.length; word += 4) {
            byte b0 = raw[word];
            byte b1 = raw[word + 1];
            raw[word] = raw[word + 3];
            raw[word + 1] = raw[word + 2];
            raw[word + 2] = b1;
            raw[word + 3] = b0;
        }
        try {
            // A v4-mapped v6 address comes back as the v4 address, as Java reports peers of a dual-stack socket.
            return InetAddress.getByAddress(raw).equals(address.getAddress());
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
