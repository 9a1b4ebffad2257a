package dev.lodestar.epp.metrics;

import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/**
 * The Prometheus endpoint on {@code --metrics-port} (9090): {@code GET /metrics} in the text format,
 * guarded by {@link MetricsAuth}; every other path is 404, as controller-runtime's metrics server.
 */
public final class MetricsServer {
    /** Upstream's {@code --metrics-port} default. */
    public static final int DEFAULT_PORT = 9090;
    public static final String PATH = "/metrics";

    private static final System.Logger LOGGER = System.getLogger(MetricsServer.class.getName());

    private final PrometheusRegistry registry;
    private final MetricsAuth auth;

    private MetricsServer(PrometheusRegistry registry, MetricsAuth auth) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.auth = Objects.requireNonNull(auth, "auth");
    }

    /** Starts the endpoint on {@code host:port} (port 0 picks a free one). */
    public static WebServer start(String host, int port, PrometheusRegistry registry, MetricsAuth auth) {
        if (auth instanceof MetricsAuth.NoTokens) {
            LOGGER.log(System.Logger.Level.WARNING, "--metrics-endpoint-auth is on but no metrics token file is "
                    + "configured: every scrape of " + PATH + " is refused");
        }
        MetricsServer server = new MetricsServer(registry, auth);
        return WebServer.builder()
                .host(host)
                .port(port)
                .connectionOptions(options -> options.tcpNoDelay(true))
                .routing(routing -> routing.get(PATH, server::scrape))
                .build()
                .start();
    }

    private void scrape(ServerRequest request, ServerResponse response) throws IOException {
        switch (auth.authorize(request.headers().first(HeaderNames.AUTHORIZATION))) {
            case ALLOWED -> {
                response.header(HeaderNames.CONTENT_TYPE, MetricsExposition.CONTENT_TYPE);
                try (OutputStream out = response.outputStream()) {
                    MetricsExposition.write(registry, out);
                }
            }
            case UNAUTHENTICATED -> refuse(response, Status.UNAUTHORIZED_401, "Unauthorized");
            case NOT_CONFIGURED -> refuse(response, Status.UNAUTHORIZED_401, "Unauthorized: metrics endpoint "
                    + "authentication is on (--metrics-endpoint-auth) but no token is configured; configure a "
                    + "metrics token file or turn authentication off");
            case UNAVAILABLE -> refuse(response, Status.INTERNAL_SERVER_ERROR_500,
                    "the metrics token file cannot be read");
        }
    }

    private static void refuse(ServerResponse response, Status status, String message) {
        if (status == Status.UNAUTHORIZED_401) {
            response.header(HeaderValues.create(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"metrics\""));
        }
        response.status(status).send(message + "\n");
    }
}
