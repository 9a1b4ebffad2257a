package dev.lodestar.simulator;

import io.helidon.common.mapper.MapperManager;
import io.helidon.webserver.WebServer;

import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * One simulated vLLM server: an engine, its metrics, and an HTTP listener on its own address and port.
 */
public final class SimulatedServer implements AutoCloseable {
    static {
        pinGlobalMapperManager();
    }

    private final SimulatorConfig config;
    private final Engine engine;
    private final EngineMetrics metrics;
    private final WebServer webServer;
    private final Optional<NixlKvTransfer> kvTransfer;

    private SimulatedServer(SimulatorConfig config, ScheduledExecutorService timers) {
        this.config = config;
        this.metrics = new EngineMetrics(config);
        this.kvTransfer = config.kvTransfer().map(settings -> NixlKvTransfer.start(settings, config.blockSize()));
        try {
            this.engine = new Engine(config, timers, metrics, kvTransfer);
            this.webServer = listen(config, new OpenAiApi(config, engine, metrics));
        } catch (RuntimeException e) {
            kvTransfer.ifPresent(NixlKvTransfer::close);
            throw e;
        }
    }

    private static WebServer listen(SimulatorConfig config, OpenAiApi api) {
        WebServer webServer = WebServer.builder()
                .host(config.host())
                .port(config.port())
                // Helidon leaves Nagle on by default, which stalls every small SSE write by ~40 ms.
                .connectionOptions(options -> options.tcpNoDelay(true))
                .maxPayloadSize(64L << 20)
                .routing(api::routing)
                .build()
                .start();
        if (!webServer.isRunning() || webServer.port() <= 0) {
            // Helidon logs the bind failure and returns a stopped server instead of throwing.
            webServer.stop();
            throw new IllegalStateException("cannot listen on " + config.host() + ":" + config.port()
                    + " (address in use or not assignable? see the log above)");
        }
        api.boundPort(webServer.port());
        return webServer;
    }

    /**
     * Helidon 4.4 looks the global MapperManager up in its service registry, building a new one each
     * time, whenever a header value is converted (e.g. the Content-Length of every request): a fifth of
     * the simulator's CPU under load. Setting it once makes every later lookup a field read. The setter
     * is deprecated, but {@code HeaderValueBase} still reads this global, and nothing else fills it.
     */
    @SuppressWarnings("removal")
    private static void pinGlobalMapperManager() {
        MapperManager.global(MapperManager.create());
    }

    /** Starts a server; {@code timers} runs the engine's delayed work (LoRA loads finishing). */
    static SimulatedServer start(SimulatorConfig config, ScheduledExecutorService timers) {
        return new SimulatedServer(config, timers);
    }

    public SimulatorConfig config() {
        return config;
    }

    public String host() {
        return config.host();
    }

    /** The port actually bound (differs from the configured one when that was 0). */
    public int port() {
        return webServer.port();
    }

    /** Base URL, e.g. {@code http://127.0.1.1:8000}. */
    public String baseUrl() {
        String host = config.host().equals("0.0.0.0") ? "127.0.0.1" : config.host();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
    }

    Engine engine() {
        return engine;
    }

    EngineMetrics metrics() {
        return metrics;
    }

    /** The KV transfer engine's side-channel port, when kv-transfer is on. */
    public Optional<Integer> kvTransferSideChannelPort() {
        return kvTransfer.map(NixlKvTransfer::sideChannelPort);
    }

    Optional<NixlKvTransfer> kvTransfer() {
        return kvTransfer;
    }

    @Override
    public void close() {
        webServer.stop();
        kvTransfer.ifPresent(NixlKvTransfer::close);
    }
}
