package dev.lodestar.simulator;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FleetTest {
    private static SimulatorConfig server(String host, int port, String podName) {
        return SimulatorConfig.builder().host(host).port(port).podName(podName).build();
    }

    @Test
    void serversOnDistinctLoopbackAddressesShareAPortButNotTheirState() throws Exception {
        try (Fleet fleet = Fleet.start(List.of(server("127.0.5.1", 0, "a"), server("127.0.5.2", 0, "b")))) {
            HttpClient http = HttpClient.newHttpClient();
            for (SimulatedServer server : fleet.servers()) {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl()
                        + "/v1/completions")).POST(HttpRequest.BodyPublishers.ofString(
                        "{\"prompt\":\"hello\",\"max_tokens\":2}")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.headers().firstValue("x-inference-pod")).contains(server.config().podName());
            }
            assertThat(fleet.servers()).extracting(SimulatedServer::host).containsExactly("127.0.5.1", "127.0.5.2");
            assertThat(fleet.servers().get(0).engine()).isNotSameAs(fleet.servers().get(1).engine());
        }
    }

    @Test
    void aTakenAddressFailsTheStartAndStopsTheServersAlreadyUp() {
        try (Fleet first = Fleet.start(List.of(server("127.0.5.3", 0, "first")))) {
            int taken = first.servers().get(0).port();
            assertThatThrownBy(() -> Fleet.start(List.of(server("127.0.5.4", 0, "ok"),
                    server("127.0.5.3", taken, "clash"))))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("cannot listen on 127.0.5.3:" + taken);
        }
    }
}
