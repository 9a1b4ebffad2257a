package dev.lodestar.epp.datalayer;

import dev.lodestar.epp.datalayer.ScriptedHttpServer.After;
import dev.lodestar.epp.datalayer.ScriptedHttpServer.Reply;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetricsConnectionTest {
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final MetricsConnection connection =
            closing(MetricsDataSource.builder().timeout(Duration.ofMillis(500)).build().openConnection());

    private <T extends AutoCloseable> T closing(T closeable) {
        closeables.add(closeable);
        return closeable;
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable closeable : closeables.reversed()) {
            closeable.close();
        }
    }

    private ScriptedHttpServer server(IntFunction<Reply> script) throws IOException {
        return closing(new ScriptedHttpServer(script));
    }

    private static EndpointMetadata endpoint(ScriptedHttpServer server) {
        return new EndpointMetadata(EndpointKey.ofRank("default", "pod", 0), "pod", "127.0.0.1", 8000,
                server.hostPort(), Map.of());
    }

    private String fetch(ScriptedHttpServer server) throws IOException {
        MetricsConnection.Body body = connection.fetch(endpoint(server));
        return new String(body.bytes(), body.offset(), body.length(), StandardCharsets.UTF_8);
    }

    private static Reply contentLength(String body) {
        return Reply.of("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length() + "\r\n\r\n"
                + body, After.KEEP);
    }

    @Test
    void sendsAPlainGetAndKeepsTheConnection() throws Exception {
        ScriptedHttpServer server = server(n -> contentLength("m " + n + "\n"));

        for (int i = 1; i <= 5; i++) {
            assertThat(fetch(server)).isEqualTo("m " + i + "\n");
        }

        assertThat(server.connections()).isEqualTo(1);
        assertThat(server.heads().getFirst()).startsWith("GET /metrics HTTP/1.1\r\nHost: " + server.hostPort() + "\r\n")
                .contains("\r\nAccept: text/plain;version=0.0.4;q=1.0,*/*;q=0.1\r\n");
    }

    @Test
    void chunkedBodiesWithExtensionsAndTrailers() throws Exception {
        String big = "x".repeat(70_000);
        ScriptedHttpServer server = server(n -> Reply.of(n == 1
                ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n7\r\n world!\r\n"
                        + "0\r\nX-Trailer: t\r\n\r\n"
                : "HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n" + Integer.toHexString(big.length()) + "\r\n"
                        + big + "\r\n1\r\n!\r\n0\r\n\r\n", After.KEEP));

        assertThat(fetch(server)).isEqualTo("hello world!");
        assertThat(fetch(server)).isEqualTo(big + "!");
        assertThat(server.connections()).isEqualTo(1);
    }

    @Test
    void bodiesLargerThanTheBufferGrowIt() throws Exception {
        String body = "0123456789".repeat(300_000);
        ScriptedHttpServer server = server(n -> contentLength(body));
        assertThat(fetch(server)).isEqualTo(body);
        assertThat(fetch(server)).isEqualTo(body);
    }

    @Test
    void unframedBodyEndsWithTheConnection() throws Exception {
        ScriptedHttpServer server = server(n -> Reply.of("HTTP/1.1 200 OK\r\n\r\nm " + n + "\n", After.CLOSE));
        assertThat(fetch(server)).isEqualTo("m 1\n");
        assertThat(fetch(server)).isEqualTo("m 2\n");
        assertThat(server.connections()).isEqualTo(2);
    }

    @Test
    void connectionCloseAndHttp10AreHonoured() throws Exception {
        ScriptedHttpServer server = server(n -> n % 2 == 1
                ? Reply.of("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", After.CLOSE)
                : Reply.of("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", After.CLOSE));
        for (int i = 0; i < 4; i++) {
            assertThat(fetch(server)).isEqualTo("ok");
        }
        assertThat(server.connections()).isEqualTo(4);
    }

    @Test
    void idleConnectionClosedByTheServerIsRetriedOnce() throws Exception {
        // Promises keep-alive, then closes: the next request on that connection finds it dead.
        ScriptedHttpServer server = server(n -> new Reply(contentLength("m " + n + "\n").bytes(), After.CLOSE));

        assertThat(fetch(server)).isEqualTo("m 1\n");
        assertThat(fetch(server)).isEqualTo("m 2\n");
        assertThat(fetch(server)).isEqualTo("m 3\n");

        assertThat(server.connections()).isEqualTo(3);
        assertThat(server.requests()).isEqualTo(3);
    }

    @Test
    void statusOtherThan200() throws Exception {
        ScriptedHttpServer server = server(n -> Reply.of("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                After.KEEP));
        assertThatThrownBy(() -> fetch(server)).isInstanceOf(IOException.class)
                .hasMessage("unexpected status 404 from http://" + server.hostPort() + "/metrics");
    }

    @Test
    void malformedResponses() throws Exception {
        ScriptedHttpServer notHttp = server(n -> Reply.of("SSH-2.0-OpenSSH\r\n\r\n", After.CLOSE));
        assertThatThrownBy(() -> fetch(notHttp)).hasMessage("not an HTTP/1.x response from http://"
                + notHttp.hostPort() + "/metrics: SSH-2.0-OpenSSH");

        ScriptedHttpServer truncated = server(n -> Reply.of("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..",
                After.CLOSE));
        assertThatThrownBy(() -> fetch(truncated)).hasMessage("connection closed after 10 of 100 body bytes");

        ScriptedHttpServer badChunk = server(n -> Reply.of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "zz\r\nhello\r\n0\r\n\r\n", After.CLOSE));
        assertThatThrownBy(() -> fetch(badChunk)).hasMessage("malformed chunked encoding: bad chunk size");

        ScriptedHttpServer huge = server(n -> Reply.of("HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n",
                After.CLOSE));
        assertThatThrownBy(() -> fetch(huge))
                .hasMessage("metrics body of 100000000 bytes is larger than " + MetricsConnection.MAX_BODY);
    }

    @Test
    void slowBodyTimesOut() throws Exception {
        ScriptedHttpServer server = server(n -> Reply.of("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial",
                After.HANG));
        long started = System.nanoTime();
        assertThatThrownBy(() -> fetch(server)).isInstanceOf(SocketTimeoutException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
    }

    @Test
    void newMetricsHostGetsANewConnection() throws Exception {
        ScriptedHttpServer first = server(n -> contentLength("first\n"));
        ScriptedHttpServer second = server(n -> contentLength("second\n"));
        assertThat(fetch(first)).isEqualTo("first\n");
        assertThat(fetch(second)).isEqualTo("second\n");
        assertThat(fetch(first)).isEqualTo("first\n");
        assertThat(first.connections()).isEqualTo(2);
        assertThat(second.connections()).isEqualTo(1);
    }
}
