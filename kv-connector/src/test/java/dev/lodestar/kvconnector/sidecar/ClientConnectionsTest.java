package dev.lodestar.kvconnector.sidecar;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Real TCP connections on loopback, read back from the kernel's socket table. */
class ClientConnectionsTest {
    @Test
    void anEstablishedConnectionIsOpenAndClosedOnceTheClientHangsUp() throws Exception {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "no /proc/net/tcp (not Linux)");
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
            try (Socket accepted = listener.accept()) {
                assertThat(ClientConnections.state(accepted.getLocalSocketAddress(),
                        accepted.getRemoteSocketAddress())).isEqualTo(ClientConnections.State.OPEN);
                client.close();
                // The FIN is usually processed before close() returns, but a loaded kernel may defer it a little.
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                ClientConnections.State state;
                do {
                    state = ClientConnections.state(accepted.getLocalSocketAddress(), accepted.getRemoteSocketAddress());
                } while (state == ClientConnections.State.OPEN && System.nanoTime() < deadline);
                assertThat(state).isEqualTo(ClientConnections.State.CLOSED);
            }
        }
    }

    @Test
    void aConnectionNotInTheTableIsClosed() throws Exception {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "no /proc/net/tcp (not Linux)");
        int unused;
        try (ServerSocket socket = new ServerSocket(0)) {
            unused = socket.getLocalPort();
        }
        assertThat(ClientConnections.state(new InetSocketAddress("127.0.0.1", unused),
                new InetSocketAddress("127.0.0.1", 1))).isEqualTo(ClientConnections.State.CLOSED);
    }
}
