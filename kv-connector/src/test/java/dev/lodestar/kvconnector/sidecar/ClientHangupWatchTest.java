package dev.lodestar.kvconnector.sidecar;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Real TCP connections on loopback, one hung up, one kept. */
@Timeout(30)
class ClientHangupWatchTest {
    @Test
    void onlyTheConnectionWhoseClientHungUpIsReported() throws Exception {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "no /proc/net/tcp (not Linux)");
        try (ClientHangupWatch hangups = new ClientHangupWatch(Duration.ofMillis(20));
             ServerSocket listener = new ServerSocket(0, 2, InetAddress.getLoopbackAddress());
             Socket leaving = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
             Socket leavingServerSide = listener.accept();
             Socket staying = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
             Socket stayingServerSide = listener.accept()) {
            ClientHangupWatch.Watch left = hangups.watch(leavingServerSide.getLocalSocketAddress(),
                    leavingServerSide.getRemoteSocketAddress());
            ClientHangupWatch.Watch stays = hangups.watch(stayingServerSide.getLocalSocketAddress(),
                    stayingServerSide.getRemoteSocketAddress());

            leaving.close();
            left.hungUp().get(10, TimeUnit.SECONDS);

            // Both were checked against the same table read, so the one still open would have been seen by now.
            assertThat(stays.hasHungUp()).isFalse();
            left.close();
            stays.close();
        }
    }
}
