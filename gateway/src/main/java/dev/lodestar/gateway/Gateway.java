package dev.lodestar.gateway;

import io.helidon.webserver.WebServer;

import java.util.LinkedHashMap;
import java.util.Map;

/** The dev gateway: a Helidon web server proxying every request through its route's pool and EPP. */
public final class Gateway implements AutoCloseable {
    private final WebServer server;
    private final Map<String, EndpointPickerClient> pickers;
    private final UpstreamClient upstream;

    private Gateway(WebServer server, Map<String, EndpointPickerClient> pickers, UpstreamClient upstream) {
        this.server = server;
        this.pickers = pickers;
        this.upstream = upstream;
    }

    /** Starts serving; fails when the listen address cannot be bound. */
    public static Gateway start(GatewayConfig config) {
        Map<String, EndpointPickerClient> pickers = new LinkedHashMap<>();
        config.pools().forEach(pool -> pickers.put(pool.name(), new EndpointPickerClient(pool.endpointPicker())));
        UpstreamClient upstream = new UpstreamClient(config.timeouts().connect());
        ProxyHandler proxy = new ProxyHandler(config, pickers, upstream);
        WebServer server = WebServer.builder()
                .host(config.listen().host())
                .port(config.listen().port())
                .connectionOptions(options -> options.tcpNoDelay(true)) // Helidon's default (Nagle) delays streamed tokens ~40 ms
                .routing(routing -> routing.any(proxy))
                .build();
        Gateway gateway = new Gateway(server, pickers, upstream);
        try {
            server.start();
        } catch (RuntimeException e) {
            gateway.close();
            throw new IllegalStateException("cannot listen on " + config.listen().host() + ":"
                    + config.listen().port() + ": " + e.getMessage(), e);
        }
        if (!server.isRunning()) {
            gateway.close();
            throw new IllegalStateException("cannot listen on " + config.listen().host() + ":"
                    + config.listen().port() + " (see the log above)");
        }
        return gateway;
    }

    public int port() {
        return server.port();
    }

    @Override
    public void close() {
        server.stop();
        pickers.values().forEach(EndpointPickerClient::close);
        upstream.close();
    }
}
