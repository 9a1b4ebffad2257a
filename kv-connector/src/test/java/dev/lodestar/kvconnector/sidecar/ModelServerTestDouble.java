package dev.lodestar.kvconnector.sidecar;

import dev.lodestar.epp.tls.ServingCertificate;
import io.helidon.common.tls.Tls;
import io.helidon.http.Header;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A test double of a vLLM server (prefill or decode role) for the failure branches the real simulator cannot be
 * made to take on demand: chosen statuses, retries, a prefill that waits, a stream paced by the test. A real Helidon
 * HTTP server on a free port; it records every request and answers with the {@link Behaviour} set by the test.
 */
final class ModelServerTestDouble implements AutoCloseable {
    /** What the double received. */
    record Received(String method, String pathAndQuery, Map<String, List<String>> headers, String body) {
        String header(String name) {
            List<String> values = headers.getOrDefault(name, List.of());
            return values.isEmpty() ? null : values.getFirst();
        }
    }

    @FunctionalInterface
    interface Behaviour {
        void answer(Received request, ServerResponse res) throws Exception;
    }

    private final WebServer server;
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private volatile Behaviour behaviour = (request, res) -> res.status(404).send();

    private ModelServerTestDouble(boolean tls) {
        var builder = WebServer.builder().host("127.0.0.1").port(0).routing(routing -> routing.any(this::handle));
        if (tls) {
            ServingCertificate certificate = ServingCertificate.selfSigned();
            builder.tls(Tls.builder().privateKey(certificate.key()).privateKeyCertChain(certificate.chain()).build());
        }
        server = builder.build().start();
    }

    static ModelServerTestDouble start() {
        return new ModelServerTestDouble(false);
    }

    static ModelServerTestDouble startTls() {
        return new ModelServerTestDouble(true);
    }

    int port() {
        return server.port();
    }

    String hostPort() {
        return "127.0.0.1:" + port();
    }

    ModelServerTestDouble answer(Behaviour next) {
        this.behaviour = next;
        return this;
    }

    /** The next request received, waiting up to 10 s. */
    Received next() throws InterruptedException {
        Received request = received.poll(10, TimeUnit.SECONDS);
        if (request == null) {
            throw new AssertionError("the test double received no request within 10 s");
        }
        return request;
    }

    /** Requests received and not yet taken. */
    List<Received> drain() {
        List<Received> all = new ArrayList<>();
        received.drainTo(all);
        return all;
    }

    private void handle(ServerRequest req, ServerResponse res) throws Exception {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (Header header : req.headers()) {
            headers.computeIfAbsent(header.headerName().lowerCase(), key -> new ArrayList<>())
                    .addAll(header.allValues());
        }
        String query = req.query().rawValue();
        String body = req.content().hasEntity() ? req.content().as(String.class) : "";
        Received request = new Received(req.prologue().method().text(),
                req.path().rawPath() + (query.isEmpty() ? "" : "?" + query), headers, body);
        received.add(request);
        behaviour.answer(request, res);
    }

    static void json(ServerResponse res, int status, String json) {
        res.status(status).header("Content-Type", "application/json").send(json.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        server.stop();
    }
}
