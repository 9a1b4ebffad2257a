package dev.lodestar.gateway;

import dev.lodestar.simulator.Fleet;
import dev.lodestar.simulator.SimulatorConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UpstreamClientIT {
    private static final String MODEL = "meta-llama/Llama-3.1-8B-Instruct";
    private static final byte[] CHAT = ("{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":"
            + "\"hi\"}],\"max_tokens\":2}").getBytes(StandardCharsets.UTF_8);

    private static Fleet fleet;
    private static String sim;
    private static String refused;
    private static UpstreamClient client;

    @BeforeAll
    static void start() throws IOException {
        fleet = Fleet.start(List.of(SimulatorConfig.builder().host("127.0.0.1").port(0).model(MODEL)
                .podName("sim").build()));
        sim = "127.0.0.1:" + fleet.servers().getFirst().port();
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            refused = "127.0.0.1:" + socket.getLocalPort();
        }
        client = new UpstreamClient(Duration.ofSeconds(2));
    }

    @AfterAll
    static void stop() {
        client.close();
        fleet.close();
    }

    private static HeaderBlock headers() {
        return HeaderBlock.create().add(":method", "POST").add(":path", "/v1/chat/completions")
                .add(":authority", "gateway").add("content-type", "application/json")
                .add("content-length", "999").add("connection", "close").add("x-request-id", "r-1");
    }

    @Test
    void firstEndpointThatAcceptsServesAndPseudoAndHopHeadersStayBehind() throws Exception {
        UpstreamClient.Connected connected = client.send(List.of(refused, sim), "POST", "/v1/chat/completions",
                headers(), CHAT, Duration.ofSeconds(10));

        try (var body = connected.response().body()) {
            assertThat(connected.endpoint()).isEqualTo(sim);
            // A wrong content-length or a forwarded pseudo-header would make the request fail.
            assertThat(connected.response().statusCode()).isEqualTo(200);
            assertThat(connected.response().headers().firstValue("x-request-id")).contains("r-1");
            assertThat(new String(body.readAllBytes(), StandardCharsets.UTF_8)).contains("\"choices\"");
        }
    }

    @Test
    void noEndpointAcceptingIs503() {
        assertThatThrownBy(() -> client.send(List.of(refused), "POST", "/v1/chat/completions", headers(), CHAT,
                Duration.ofSeconds(10)))
                .isInstanceOfSatisfying(UpstreamClient.UpstreamFailure.class,
                        failure -> assertThat(failure.status()).isEqualTo(503))
                .hasMessageContaining(refused);
        assertThatThrownBy(() -> client.send(List.of(), "GET", "/", headers(), new byte[0], Duration.ofSeconds(1)))
                .isInstanceOfSatisfying(UpstreamClient.UpstreamFailure.class,
                        failure -> assertThat(failure.status()).isEqualTo(503));
    }

    @Test
    void serverThatNeverAnswersIs504AfterTheResponseTimeout() throws Exception {
        // The kernel completes the connection into the backlog; nothing ever answers.
        try (ServerSocket silent = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            String endpoint = "127.0.0.1:" + silent.getLocalPort();
            assertThatThrownBy(() -> client.send(List.of(endpoint, sim), "POST", "/v1/chat/completions", headers(),
                    CHAT, Duration.ofMillis(300)))
                    .isInstanceOfSatisfying(UpstreamClient.UpstreamFailure.class,
                            failure -> assertThat(failure.status()).isEqualTo(504));
        }
    }
}
