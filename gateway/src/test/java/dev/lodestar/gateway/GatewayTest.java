package dev.lodestar.gateway;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GatewayTest {
    private static GatewayConfig config(int port) {
        return GatewayConfig.parse("""
                listen: {port: %d}
                pools:
                  - name: main
                    endpointPicker: {address: "127.0.0.1:9", tls: false}
                routes:
                  - pool: main
                """.formatted(port));
    }

    @Test
    void startsOnAnyFreePortAndStops() {
        try (Gateway gateway = Gateway.start(config(0))) {
            assertThat(gateway.port()).isPositive();
        }
    }

    @Test
    void portInUseIsAnErrorNamingTheAddress() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            assertThatThrownBy(() -> Gateway.start(config(taken.getLocalPort())))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("127.0.0.1:" + taken.getLocalPort());
        }
    }
}
