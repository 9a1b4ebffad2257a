package dev.lodestar.epp.datalayer;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLHandshakeException;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetricsDataSourceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static EndpointMetadata endpoint(String metricsHost) {
        return new EndpointMetadata(EndpointKey.ofRank("default", "pod", 0), "pod", "127.0.0.1", 8000, metricsHost,
                Map.of());
    }

    private static MetricsDataSource fromParameters(String json) throws Exception {
        return (MetricsDataSource) MetricsDataSource.FACTORY.create("source", JSON.readTree(json), null);
    }

    @Test
    void registeredAsABuiltInPlugin() {
        assertThat(PluginRegistry.builtIn().factory(MetricsDataSource.TYPE)).containsSame(MetricsDataSource.FACTORY);
    }

    @Test
    void upstreamDefaults() {
        MetricsDataSource source = (MetricsDataSource) MetricsDataSource.FACTORY.create("metrics-data-source",
                JSON.missingNode(), null);
        assertThat(source.typedName().type()).isEqualTo("metrics-data-source");
        assertThat(source.scheme()).isEqualTo("http");
        assertThat(source.path()).isEqualTo("/metrics");
        assertThat(source.insecureSkipVerify()).isTrue();
        assertThat(source.timeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(source.target(endpoint("10.0.0.1:8000"))).hasToString("http://10.0.0.1:8000/metrics");
        assertThat(source.target(endpoint("[fd00::1]:8000"))).hasToString("http://[fd00::1]:8000/metrics");
    }

    @Test
    void parameters() throws Exception {
        MetricsDataSource source = fromParameters(
                "{\"scheme\": \"HTTPS\", \"path\": \"stats/prometheus\", \"insecureSkipVerify\": false}");
        assertThat(source.scheme()).isEqualTo("https");
        assertThat(source.path()).isEqualTo("/stats/prometheus");
        assertThat(source.insecureSkipVerify()).isFalse();
        assertThat(source.target(endpoint("10.0.0.1:9000"))).hasToString("https://10.0.0.1:9000/stats/prometheus");
    }

    @Test
    void deprecatedFlagsCanSupplyTheDefaults() throws Exception {
        var factory = MetricsDataSource.factory(new MetricsDataSource.Params("https", "/flag-path", null));
        MetricsDataSource fromFlags = (MetricsDataSource) factory.create("s", JSON.readTree("{}"), null);
        MetricsDataSource explicit = (MetricsDataSource) factory.create("s",
                JSON.readTree("{\"scheme\": \"http\", \"insecureSkipVerify\": false}"), null);
        assertThat(fromFlags.scheme()).isEqualTo("https");
        assertThat(fromFlags.path()).isEqualTo("/flag-path");
        assertThat(fromFlags.insecureSkipVerify()).isTrue();
        assertThat(explicit.scheme()).isEqualTo("http");
        assertThat(explicit.path()).isEqualTo("/flag-path");
        assertThat(explicit.insecureSkipVerify()).isFalse();
    }

    @Test
    void invalidParameters() {
        assertThatThrownBy(() -> fromParameters("{\"scheme\": \"ftp\"}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("plugin 'source': unsupported scheme 'ftp' (http or https)");
        assertThatThrownBy(() -> fromParameters("{\"path\": \" \"}"))
                .hasMessage("plugin 'source': path must not be empty");
        assertThatThrownBy(() -> fromParameters("{\"port\": 9090}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("unknown parameter 'port'");
        assertThatThrownBy(() -> fromParameters("{\"insecureSkipVerify\": \"maybe\"}"))
                .isInstanceOf(InvalidConfigException.class);
        assertThatThrownBy(() -> MetricsDataSource.builder().timeout(Duration.ZERO).build())
                .hasMessage("timeout must be positive, got PT0S");
    }

    @Test
    void fetchesTheBody() throws Exception {
        MetricsDataSource source = MetricsDataSource.create();
        try (FixedMetricsServer server = FixedMetricsServer.http("m 1\n")) {
            assertThat(new String(source.fetch(endpoint(server.hostPort())), StandardCharsets.UTF_8)).isEqualTo("m 1\n");
        }
    }

    @Test
    void statusOtherThan200IsAnError() throws Exception {
        MetricsDataSource source = MetricsDataSource.create();
        try (FixedMetricsServer server = FixedMetricsServer.http("gone")) {
            server.status(503);
            assertThatThrownBy(() -> source.fetch(endpoint(server.hostPort())))
                    .isInstanceOf(IOException.class)
                    .hasMessage("unexpected status 503 from http://" + server.hostPort() + "/metrics");
        }
    }

    @Test
    void connectionRefusedIsAnError() throws Exception {
        int freePort;
        try (ServerSocket socket = new ServerSocket(0)) {
            freePort = socket.getLocalPort();
        }
        assertThatThrownBy(() -> MetricsDataSource.create().fetch(endpoint("127.0.0.1:" + freePort)))
                .isInstanceOf(IOException.class);
    }

    @Test
    void unansweredRequestTimesOut() throws Exception {
        MetricsDataSource source = MetricsDataSource.builder().timeout(Duration.ofMillis(150)).build();
        try (FixedMetricsServer server = FixedMetricsServer.http("m 1\n")) {
            server.hang();
            assertThatThrownBy(() -> source.fetch(endpoint(server.hostPort())))
                    .isInstanceOf(SocketTimeoutException.class)
                    .hasMessage("timed out after 150 ms");
        }
    }

    @Test
    void httpsAcceptsAnyCertificateWhenSkippingVerification() throws Exception {
        MetricsDataSource source = fromParameters("{\"scheme\": \"https\"}");
        try (FixedMetricsServer server = FixedMetricsServer.https("m 2\n")) {
            assertThat(new String(source.fetch(endpoint(server.hostPort())), StandardCharsets.UTF_8)).isEqualTo("m 2\n");
        }
    }

    @Test
    void httpsVerifiesCertificatesWhenAskedTo() throws Exception {
        MetricsDataSource source = fromParameters("{\"scheme\": \"https\", \"insecureSkipVerify\": false}");
        try (FixedMetricsServer server = FixedMetricsServer.https("m 2\n")) {
            assertThatThrownBy(() -> source.fetch(endpoint(server.hostPort()))).isInstanceOf(SSLHandshakeException.class);
        }
    }
}
