package dev.lodestar.e2e;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * llm-d's P/D topology as OS processes on loopback: a prefill simulator (pod {@code 127.0.<subnet>.1}, role
 * prefill), a decode pod made of the routing sidecar ({@code 127.0.<subnet>.2}, on every address as upstream
 * binds) in front of a decode simulator on {@code localhost}, both simulators with kv-transfer on (a real UCX
 * pull between them); the EPP with llm-d's P/D configuration (deploy/config/pd-epp-config.yaml plus
 * file-discovery), and the dev gateway. {@link LocalStack} covers aggregated stacks; this one exists because
 * a decode pod is two processes on two ports.
 */
final class PdStack implements AutoCloseable {
    private static final Pattern GATEWAY_LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
    private static final Map<Class<?>, PdStack> ACTIVE = new ConcurrentHashMap<>();

    /** A pod as the EPP sees it. */
    record Pod(String name, String host, int port) {
        String hostPort() {
            return host + ":" + port;
        }

        String baseUrl() {
            return "http://" + hostPort();
        }
    }

    private final Class<?> owner;
    private final Path work;
    private final List<ManagedProcess> processes = new CopyOnWriteArrayList<>();
    private final List<OpenAIClient> clients = new CopyOnWriteArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private Pod prefill;
    private Pod decode;
    private String decodeSimulatorUrl;
    private int eppMetricsPort;
    private int gatewayPort;

    private PdStack(Class<?> owner) {
        this.owner = owner;
        String logs = System.getProperty("lodestar.e2e.logs");
        this.work = (logs == null || logs.isBlank() ? LocalStack.root().resolve("test/e2e/target/e2e-logs")
                : Path.of(logs)).resolve(owner.getSimpleName());
    }

    /**
     * Starts the stack; {@code simulatorYaml} holds the settings both simulators share (no host, port,
     * pod-name or kv-transfer keys). Fails with the processes' log tails when something does not come up.
     */
    static PdStack start(Class<?> owner, int subnet, String simulatorYaml) {
        PdStack stack = new PdStack(owner);
        ACTIVE.put(owner, stack);
        try {
            stack.startAll(subnet, simulatorYaml);
            return stack;
        } catch (IOException e) {
            stack.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            String tails = stack.tails(60);
            stack.close();
            throw new AssertionError("the P/D stack of " + owner.getSimpleName() + " did not start: " + e
                    + "\n\n---- process logs ----\n" + tails, e);
        }
    }

    private void startAll(int subnet, String simulatorYaml) throws IOException {
        Files.createDirectories(work);
        try (Stream<Path> old = Files.list(work)) {
            for (Path file : old.toList()) {
                Files.deleteIfExists(file);
            }
        }
        String prefix = owner.getSimpleName().toLowerCase(Locale.ROOT);
        String prefillHost = "127.0." + subnet + ".1";
        String decodeHost = "127.0." + subnet + ".2";
        prefill = new Pod(prefix + "-prefill", prefillHost, freePort(prefillHost));
        // The sidecar binds every address (as upstream's does); the decode simulator is its localhost model server.
        int sidecarPort = freePort("0.0.0.0");
        while (sidecarPort == prefill.port()) { // a wildcard bind would collide with the prefill's
            sidecarPort = freePort("0.0.0.0");
        }
        decode = new Pod(prefix + "-decode", decodeHost, sidecarPort);
        int decodeSimulatorPort = freePort("127.0.0.1");
        while (decodeSimulatorPort == sidecarPort) {
            decodeSimulatorPort = freePort("127.0.0.1");
        }
        decodeSimulatorUrl = "http://127.0.0.1:" + decodeSimulatorPort;

        Path simulatorJar = jar("simulator/target/lodestar-simulator.jar", "simulator");
        Map<String, String> ucx = Map.of("UCX_LOG_LEVEL", "error");
        launch("simulator-prefill", java(simulatorJar, "--config", write("prefill.yaml", simulatorYaml
                + "\nhost: " + prefillHost + "\nport: " + prefill.port() + "\npod-name: " + prefill.name()
                + "\nkv-transfer: true\nkv-transfer-engine-id: " + prefill.name() + "-engine\n").toString()), ucx);
        launch("simulator-decode", java(simulatorJar, "--config", write("decode.yaml", simulatorYaml
                + "\nhost: 127.0.0.1\nport: " + decodeSimulatorPort + "\npod-name: " + decode.name()
                + "\nkv-transfer: true\nkv-transfer-engine-id: " + decode.name() + "-engine\n").toString()), ucx);
        launch("sidecar", java(jar("kv-connector/target/lodestar-kv-connector.jar", "kv-connector"),
                "--port=" + sidecarPort, "--model-server-port=" + decodeSimulatorPort, "--secure-proxy=false"), Map.of());

        Path endpoints = write("endpoints.yaml", "endpoints:\n"
                + "- {name: " + prefill.name() + ", address: " + prefill.host() + ", port: " + prefill.port()
                + ", labels: {llm-d.ai/role: prefill}}\n"
                + "- {name: " + decode.name() + ", address: " + decode.host() + ", port: " + decode.port()
                + ", labels: {llm-d.ai/role: decode}}\n");
        Path eppConfig = write("epp.yaml", eppConfig(endpoints));
        int grpcPort = freePort("0.0.0.0");
        eppMetricsPort = freePort("0.0.0.0");
        launch("epp", java(jar("epp/target/lodestar-epp.jar", "epp"), "--secure-serving=false",
                "--metrics-endpoint-auth=false", "--grpc-port=" + grpcPort,
                "--grpc-health-port=" + freePort("0.0.0.0"), "--metrics-port=" + eppMetricsPort,
                "--config-file=" + eppConfig), Map.of());
        Path gatewayConfig = write("gateway.yaml", """
                listen: {host: 127.0.0.1, port: 0}
                timeouts: {messageTimeout: 10s, connectTimeout: 2s, responseTimeout: 60s}
                pools:
                  - name: pd
                    endpointPicker: {address: 127.0.0.1:%d, tls: false}
                    failureMode: FailClose
                    endpoints: [%s, %s]
                routes:
                  - pathPrefix: /
                    pool: pd
                """.formatted(grpcPort, prefill.hostPort(), decode.hostPort()));
        ManagedProcess gateway = launch("gateway", java(jar("gateway/target/lodestar-gateway.jar", "gateway"),
                "--config", gatewayConfig.toString()), Map.of());

        for (String health : List.of(prefill.baseUrl(), decodeSimulatorUrl, decode.baseUrl())) {
            Wait.until(health + "/health to answer 200", LocalStack.START_TIMEOUT, () -> {
                assertAllAlive();
                return get(health + "/health").statusCode() == 200;
            });
        }
        Wait.until("the EPP to count 2 ready pods", LocalStack.START_TIMEOUT, () -> {
            assertAllAlive();
            return eppMetrics().sum("inference_pool_ready_pods") == 2;
        }, () -> "ready_pods = " + eppMetrics().sum("inference_pool_ready_pods"));
        Wait.until("the gateway's 'listening on' line", LocalStack.START_TIMEOUT, () -> {
            assertAllAlive();
            Matcher matcher = GATEWAY_LISTENING.matcher(gateway.logText());
            if (matcher.find()) {
                gatewayPort = Integer.parseInt(matcher.group(1));
                return true;
            }
            return false;
        });
    }

    /** llm-d Router's deploy/config/pd-epp-config.yaml (v0.10.0), with the pool from file-discovery. */
    private static String eppConfig(Path endpoints) {
        return """
                apiVersion: llm-d.ai/v1alpha1
                kind: EndpointPickerConfig
                plugins:
                - name: endpoints
                  type: file-discovery
                  parameters: {path: %s, watchFile: true}
                - type: approx-prefix-cache-producer
                  parameters: {maxPrefixTokensToMatch: 16384, lruCapacityPerServer: 31250}
                - type: prefix-cache-scorer
                - type: queue-scorer
                - type: prefill-filter
                - type: decode-filter
                - type: max-score-picker
                - type: disagg-profile-handler
                  parameters: {deciders: {prefill: prefix-based-pd-decider}}
                - type: prefix-based-pd-decider
                  parameters: {nonCachedTokens: 16}
                schedulingProfiles:
                - name: prefill
                  plugins:
                  - pluginRef: prefill-filter
                  - pluginRef: max-score-picker
                  - {pluginRef: prefix-cache-scorer, weight: 2}
                  - {pluginRef: queue-scorer, weight: 1}
                - name: decode
                  plugins:
                  - pluginRef: decode-filter
                  - pluginRef: max-score-picker
                  - {pluginRef: prefix-cache-scorer, weight: 2}
                  - {pluginRef: queue-scorer, weight: 1}
                dataLayer:
                  discovery: {pluginRef: endpoints}
                """.formatted(endpoints);
    }

    Pod prefill() {
        return prefill;
    }

    Pod decode() {
        return decode;
    }

    /** An OpenAI SDK client of the gateway (no retries, 60 s timeout). */
    OpenAIClient client() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + gatewayPort + "/v1")
                .apiKey("sk-e2e-not-checked").maxRetries(0).timeout(Duration.ofSeconds(60)).build();
        clients.add(client);
        return client;
    }

    PromText eppMetrics() {
        return scrape("http://127.0.0.1:" + eppMetricsPort + "/metrics");
    }

    PromText prefillMetrics() {
        return scrape(prefill.baseUrl() + "/metrics");
    }

    /** The decode simulator's own metrics (not through the sidecar). */
    PromText decodeMetrics() {
        return scrape(decodeSimulatorUrl + "/metrics");
    }

    private PromText scrape(String url) {
        HttpResponse<String> response = get(url);
        if (response.statusCode() != 200) {
            throw new IllegalStateException("GET " + url + " answered " + response.statusCode());
        }
        return PromText.parse(response.body());
    }

    private HttpResponse<String> get(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + url + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    String tails(int lines) {
        StringBuilder text = new StringBuilder();
        for (ManagedProcess process : processes) {
            text.append("== ").append(process).append('\n').append(process.tail(lines)).append("\n\n");
        }
        return text.toString();
    }

    static String tails(Class<?> owner, int lines) {
        PdStack stack = ACTIVE.get(owner);
        return stack == null ? "" : stack.tails(lines);
    }

    @Override
    public void close() {
        clients.forEach(OpenAIClient::close);
        processes.parallelStream().forEach(ManagedProcess::stop);
        http.close();
        ACTIVE.remove(owner, this);
    }

    private void assertAllAlive() {
        for (ManagedProcess process : processes) {
            if (!process.isAlive()) {
                throw new AssertionError(process + " exited early:\n" + process.tail(40));
            }
        }
    }

    private ManagedProcess launch(String name, List<String> command, Map<String, String> environment) {
        ManagedProcess process = ManagedProcess.start(name, command, environment, work.resolve(name + ".log"));
        processes.add(process);
        return process;
    }

    private Path write(String name, String text) throws IOException {
        Path file = work.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    private static Path jar(String relative, String module) {
        return LocalStack.jar(relative, module);
    }

    private static List<String> java(Path jar, String... args) {
        return LocalStack.javaCommand(jar, args);
    }

    private static int freePort(String host) {
        return LocalStack.freePortOnAll(List.of(host));
    }
}
