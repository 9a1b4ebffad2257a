package dev.lodestar.e2e;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The whole request path as separate OS processes on loopback: simulated model servers (Lodestar's simulator,
 * or llm-d-inference-sim), the EPP in file-discovery mode, and the dev gateway in front. Built with
 * {@link #builder}, started with {@link Builder#start()}, stopped with {@link #close()} (every process, even
 * after a failed start). Each process logs to {@code target/e2e-logs/<test class>/<process>.log}; failures
 * of a test class using {@link DumpLogsOnFailure} carry the tails of those logs.
 *
 * <p>Servers listen on {@code 127.0.<subnet>.1..n} (so endpoints look like pod IPs and suites do not collide)
 * on one port that is free on all of them; llm-d-inference-sim cannot choose its address, so its servers get
 * {@code 127.0.0.1} and a port each. The EPP's three ports are free ports found at start.
 */
public final class LocalStack implements AutoCloseable {
    public static final String MODEL = "meta-llama/Llama-3.1-8B-Instruct";
    public static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    /** Simulator settings every stack gets unless the test gives its own: small and fast. */
    public static final String DEFAULT_SIMULATOR = """
            model: meta-llama/Llama-3.1-8B-Instruct
            mode: random
            seed: 7
            max-num-seqs: 8
            max-model-len: 8192
            kv-cache-size: 2048
            block-size: 16
            latency-calculator: per-token
            prefill-overhead: 5ms
            prefill-time-per-token: 50us
            inter-token-latency: 2ms
            """;

    private static final Pattern GATEWAY_LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
    private static final Map<Class<?>, LocalStack> ACTIVE = new ConcurrentHashMap<>();
    private static final Set<ManagedProcess> EVERY_PROCESS = ConcurrentHashMap.newKeySet();

    static {
        // Last resort: a test JVM that exits without @AfterAll (e.g. Failsafe's timeout) leaves nothing behind.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> EVERY_PROCESS.forEach(p -> {
            if (p.isAlive()) {
                p.crash();
            }
        }), "e2e-process-reaper"));
    }

    /** A model server of the stack. {@code process} may be shared by a whole fleet. */
    public record Server(int index, String host, int port, String podName, ManagedProcess process) {
        public String hostPort() {
            return host + ":" + port;
        }

        public String baseUrl() {
            return "http://" + hostPort();
        }
    }

    /** How a gateway pool behaves when its EPP is unreachable or fails (gateway config {@code failureMode}). */
    public enum FailureMode {
        FAIL_CLOSE("FailClose"), FAIL_OPEN("FailOpen");

        final String yaml;

        FailureMode(String yaml) {
            this.yaml = yaml;
        }
    }

    /** A gateway pool; its endpoint picker is this stack's EPP and its FailOpen endpoints every server. */
    public record Pool(String name, FailureMode failureMode) {
    }

    /**
     * A gateway route: {@code model} null matches any body; {@code subset} lists server indexes sent to the EPP
     * as the endpoint subset hint (empty: none).
     */
    public record Route(String pathPrefix, String model, String pool, List<Integer> subset) {
        public static Route all(String pool) {
            return new Route("/", null, pool, List.of());
        }
    }

    private final Builder spec;
    /** The class's log directory; the generated configuration files are written there too. */
    private final Path work;
    private final List<ManagedProcess> processes = new CopyOnWriteArrayList<>();
    private final List<Server> servers = new ArrayList<>();
    private final List<OpenAIClient> clients = new CopyOnWriteArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private ManagedProcess epp;
    private ManagedProcess gateway;
    private int grpcPort;
    private int healthPort;
    private int metricsPort;
    private int gatewayPort;
    private Path endpointsFile;

    private LocalStack(Builder spec) {
        this.spec = spec;
        String logsProperty = System.getProperty("lodestar.e2e.logs");
        Path logs = logsProperty == null || logsProperty.isBlank()
                ? root().resolve("test/e2e/target/e2e-logs") : Path.of(logsProperty);
        this.work = logs.resolve(spec.owner.getSimpleName());
    }

    public static Builder builder(Class<?> owner) {
        return new Builder(owner);
    }

    /** The repository root: system property {@code lodestar.root} (set by Failsafe), else found upwards. */
    public static Path root() {
        String property = System.getProperty("lodestar.root");
        if (property != null && !property.isBlank()) {
            return Path.of(property).toAbsolutePath().normalize();
        }
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("mvnw")) && Files.isDirectory(d.resolve("epp"))) {
                return d;
            }
        }
        throw new IllegalStateException("cannot find the Lodestar root from " + dir + "; set -Dlodestar.root");
    }

    // ---- what tests use -----------------------------------------------------------------------------------

    public List<Server> servers() {
        return List.copyOf(servers);
    }

    public Server server(int index) {
        return servers.get(index);
    }

    /** The server whose {@code x-inference-pod} is {@code podName}. */
    public Server serverByPod(String podName) {
        return servers.stream().filter(s -> s.podName().equals(podName)).findFirst()
                .orElseThrow(() -> new AssertionError("no server reports pod " + podName + " (servers: "
                        + servers.stream().map(Server::podName).toList() + ")"));
    }

    public String gatewayUrl() {
        if (gateway == null) {
            throw new IllegalStateException("this stack has no gateway");
        }
        return "http://127.0.0.1:" + gatewayPort;
    }

    public int eppGrpcPort() {
        return grpcPort;
    }

    public ManagedProcess epp() {
        return epp;
    }

    public ManagedProcess gateway() {
        return gateway;
    }

    /** An OpenAI SDK client of the gateway: dummy key, no retries (a retry would hide the status), 30 s timeout. */
    public OpenAIClient client() {
        return client(Duration.ofSeconds(30));
    }

    public OpenAIClient client(Duration timeout) {
        OpenAIClient client = OpenAIOkHttpClient.builder()
                .baseUrl(gatewayUrl() + "/v1")
                .apiKey("sk-e2e-not-checked")
                .maxRetries(0)
                .timeout(timeout)
                .build();
        clients.add(client);
        return client;
    }

    /** A raw POST to the gateway (for what the SDK hides or refuses to send), bounded by 30 s. */
    public HttpResponse<String> post(String path, String body, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(gatewayUrl() + path))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            request.headers(headers);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("POST " + path + " through the gateway failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    public HttpClient http() {
        return http;
    }

    /** The EPP's {@code /metrics}, parsed. */
    public PromText eppMetrics() {
        return scrape("http://127.0.0.1:" + metricsPort + "/metrics");
    }

    /** A model server's {@code /metrics}, parsed. */
    public PromText serverMetrics(Server server) {
        return scrape(server.baseUrl() + "/metrics");
    }

    private PromText scrape(String url) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("GET " + url + " answered " + response.statusCode() + ": "
                        + response.body());
            }
            return PromText.parse(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + url + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Waits until the EPP counts exactly {@code count} ready pods (endpoints with fresh metrics). */
    public void awaitReadyPods(int count, Duration timeout) {
        Wait.until("the EPP to report inference_pool_ready_pods = " + count, timeout,
                () -> eppMetrics().sum("inference_pool_ready_pods") == count,
                () -> "ready_pods = " + eppMetrics().sum("inference_pool_ready_pods"));
    }

    /** Rewrites the EPP's endpoints file (file-discovery with watchFile) to exactly {@code members}. */
    public void setEndpoints(List<Server> members) {
        writeAtomically(endpointsFile, endpointsYaml(members));
    }

    /** SIGKILLs a server's process (its own process: use {@link Builder#processPerServer()}). */
    public void crash(Server server) {
        long sharing = servers.stream().filter(s -> s.process() == server.process()).count();
        if (sharing > 1) {
            throw new IllegalStateException(server.podName() + " shares its process with " + (sharing - 1)
                    + " other servers; build the stack with processPerServer()");
        }
        server.process().crash();
    }

    /**
     * Starts a crashed server's process again with the same settings and waits until it answers /health and
     * the EPP counts every server of the stack ready again.
     */
    public Server restart(Server server) {
        if (server.process().isAlive()) {
            throw new IllegalStateException(server.podName() + " is still running");
        }
        Path fleet = work.resolve("fleet-" + server.index() + ".yaml");
        if (!Files.isRegularFile(fleet)) {
            throw new IllegalStateException("only a server of a processPerServer() stack can be restarted");
        }
        ManagedProcess process = launch("simulator-" + server.index() + "-restarted",
                javaCommand(jar("simulator/target/lodestar-simulator.jar", "simulator"), "--config", fleet.toString()),
                Map.of());
        Server restarted = new Server(server.index(), server.host(), server.port(), server.podName(), process);
        servers.set(server.index(), restarted);
        awaitHealthy(restarted);
        awaitReadyPods(servers.size(), START_TIMEOUT);
        return restarted;
    }

    /** SIGKILLs the EPP. */
    public void crashEpp() {
        epp.crash();
    }

    /** Every process's log tail, for failure messages. */
    public String tails(int lines) {
        StringBuilder text = new StringBuilder();
        for (ManagedProcess process : processes) {
            text.append("== ").append(process).append('\n').append(process.tail(lines)).append("\n\n");
        }
        return text.toString();
    }

    static String tails(Class<?> owner, int lines) {
        LocalStack stack = ACTIVE.get(owner);
        return stack == null ? "" : stack.tails(lines);
    }

    @Override
    public void close() {
        clients.forEach(client -> {
            try {
                client.close();
            } catch (RuntimeException e) {
                System.err.println("e2e: closing an SDK client: " + e);
            }
        });
        // Gateway first, so that no request reaches a half-stopped stack; then the rest in parallel.
        if (gateway != null) {
            gateway.stop();
        }
        processes.parallelStream().forEach(ManagedProcess::stop);
        processes.forEach(EVERY_PROCESS::remove);
        http.close();
        ACTIVE.remove(spec.owner, this);
    }

    // ---- starting -----------------------------------------------------------------------------------------

    private void start() {
        ACTIVE.put(spec.owner, this);
        try {
            Files.createDirectories(work);
            try (Stream<Path> old = Files.list(work)) {
                for (Path file : old.toList()) {
                    Files.deleteIfExists(file);
                }
            }
            startServers();
            startEpp();
            if (spec.gateway) {
                startGateway();
            }
            awaitServers();
            awaitReadyPods(spec.expectReadyPods >= 0 ? spec.expectReadyPods : servers.size(), START_TIMEOUT);
            if (spec.gateway) {
                awaitGateway();
            }
        } catch (IOException e) {
            close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            String tails = tails(60);
            close();
            throw new AssertionError("the stack of " + spec.owner.getSimpleName() + " did not start: " + e
                    + "\n\n---- process logs ----\n" + tails, e);
        }
    }

    private void startServers() throws IOException {
        if (spec.llmdBinary != null) {
            startLlmdServers();
            return;
        }
        List<String> hosts = IntStream.rangeClosed(1, spec.serverCount)
                .mapToObj(i -> "127.0." + spec.subnet + "." + i).toList();
        int port = freePortOnAll(hosts);
        String prefix = spec.owner.getSimpleName().toLowerCase(Locale.ROOT);
        List<String> entries = new ArrayList<>();
        for (int i = 0; i < hosts.size(); i++) {
            String entry = "  - host: " + hosts.get(i) + "\n    pod-name: " + prefix + "-" + i + "\n"
                    + indent(spec.serverYaml.getOrDefault(i, ""), "    ");
            entries.add(entry);
        }
        String common = spec.simulatorYaml.stripTrailing() + "\nport: " + port + "\n";
        Path jar = jar("simulator/target/lodestar-simulator.jar", "simulator");
        if (spec.processPerServer) {
            for (int i = 0; i < hosts.size(); i++) {
                Path fleet = work.resolve("fleet-" + i + ".yaml");
                Files.writeString(fleet, common + "servers:\n" + entries.get(i));
                ManagedProcess process = launch("simulator-" + i, javaCommand(jar, "--config", fleet.toString()),
                        Map.of());
                servers.add(new Server(i, hosts.get(i), port, prefix + "-" + i, process));
            }
        } else {
            Path fleet = work.resolve("fleet.yaml");
            Files.writeString(fleet, common + "servers:\n" + String.join("", entries));
            ManagedProcess process = launch("simulators", javaCommand(jar, "--config", fleet.toString()), Map.of());
            for (int i = 0; i < hosts.size(); i++) {
                servers.add(new Server(i, hosts.get(i), port, prefix + "-" + i, process));
            }
        }
    }

    private void startLlmdServers() throws IOException {
        String prefix = "llmd-" + spec.owner.getSimpleName().toLowerCase(Locale.ROOT);
        for (int i = 0; i < spec.serverCount; i++) {
            int port = freePortOnAll(List.of("0.0.0.0"));
            List<String> command = new ArrayList<>(List.of(spec.llmdBinary.toString(), "--port", Integer.toString(port)));
            command.addAll(spec.llmdArgs);
            String pod = prefix + "-" + i;
            Map<String, String> env = new LinkedHashMap<>();
            env.put("POD_NAME", pod);
            env.put("POD_IP", "127.0.0.1");
            env.put("POD_NAMESPACE", "default");
            ManagedProcess process = launch("llm-d-inference-sim-" + i, command, env);
            servers.add(new Server(i, "127.0.0.1", port, pod, process));
        }
    }

    private void startEpp() throws IOException {
        endpointsFile = work.resolve("endpoints.yaml");
        writeAtomically(endpointsFile, endpointsYaml(spec.initialEndpoints == null ? servers
                : spec.initialEndpoints.stream().map(servers::get).toList()));
        Path config = work.resolve("epp.yaml");
        Files.writeString(config, eppConfigYaml());
        grpcPort = freePortOnAll(List.of("0.0.0.0"));
        healthPort = freePortOnAll(List.of("0.0.0.0"));
        metricsPort = freePortOnAll(List.of("0.0.0.0"));
        List<String> args = new ArrayList<>(List.of(
                "--secure-serving=" + spec.eppTls,
                "--metrics-endpoint-auth=false",
                "--grpc-port=" + grpcPort,
                "--grpc-health-port=" + healthPort,
                "--metrics-port=" + metricsPort,
                "--config-file=" + config));
        if (spec.objectsYaml != null) {
            Path objects = work.resolve("objects.yaml");
            Files.writeString(objects, spec.objectsYaml);
            args.add("--inference-objects-file=" + objects);
        }
        args.addAll(spec.eppFlags);
        epp = launch("epp", javaCommand(jar("epp/target/lodestar-epp.jar", "epp"), args.toArray(String[]::new)),
                Map.of());
    }

    private void startGateway() throws IOException {
        Path jar = root().resolve("gateway/target/lodestar-gateway.jar");
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError(jar + " does not exist: the dev gateway (module gateway/) is not built. The"
                    + " e2e scenarios need it; build with `./mvnw -B install -DskipTests` once gateway/ is on this"
                    + " branch.");
        }
        Path config = work.resolve("gateway.yaml");
        Files.writeString(config, gatewayYaml());
        gateway = launch("gateway", javaCommand(jar, "--config", config.toString()), Map.of());
    }

    private void awaitServers() {
        servers.forEach(this::awaitHealthy);
    }

    private void awaitHealthy(Server server) {
        HttpRequest health = HttpRequest.newBuilder(URI.create(server.baseUrl() + "/health"))
                .timeout(Duration.ofSeconds(2)).GET().build();
        Wait.until(server.podName() + " to answer 200 on " + server.baseUrl() + "/health", START_TIMEOUT, () -> {
            assertAlive(server.process());
            try {
                return http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        });
    }

    private void awaitGateway() {
        Wait.until("the gateway's log line 'listening on 127.0.0.1:<port>'", START_TIMEOUT, () -> {
            assertAlive(gateway);
            Matcher matcher = GATEWAY_LISTENING.matcher(gateway.logText());
            if (matcher.find()) {
                gatewayPort = Integer.parseInt(matcher.group(1));
                return true;
            }
            return false;
        });
    }

    private static void assertAlive(ManagedProcess process) {
        if (!process.isAlive()) {
            throw new AssertionError(process + " exited early:\n" + process.tail(40));
        }
    }

    private ManagedProcess launch(String name, List<String> command, Map<String, String> environment) {
        ManagedProcess process = ManagedProcess.start(name, command, environment, work.resolve(name + ".log"));
        processes.add(process);
        EVERY_PROCESS.add(process);
        return process;
    }

    static Path jar(String relative, String module) {
        Path jar = root().resolve(relative);
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError(jar + " does not exist; build it first: ./mvnw -B install -DskipTests -pl "
                    + module + " -am");
        }
        return jar;
    }

    /**
     * {@code java} of the test JVM's JDK, with flags that keep a stack of several JVMs light on 2 cores (serial
     * GC, C1 only, small heap) and quiet about sun.misc.Unsafe on JDK 23+.
     */
    static List<String> javaCommand(Path jar, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx384m", "-Xss512k",
                "--enable-native-access=ALL-UNNAMED"));
        if (Runtime.version().feature() >= 23) {
            command.add("--sun-misc-unsafe-memory-access=allow");
        }
        command.addAll(List.of("-jar", jar.toString()));
        command.addAll(List.of(args));
        return command;
    }

    // ---- configuration files ------------------------------------------------------------------------------

    private String endpointsYaml(List<Server> members) {
        if (members.isEmpty()) {
            return "endpoints: []\n";
        }
        return "endpoints:\n" + members.stream()
                .map(s -> "- {name: " + s.podName() + ", address: " + s.host() + ", port: " + s.port()
                        + ", labels: {app: e2e}}\n")
                .collect(Collectors.joining());
    }

    /** GIE's default profile (queue 2, kv-cache 2, prefix 3) with the pool from file-discovery, and the test's tweaks. */
    private String eppConfigYaml() {
        StringBuilder yaml = new StringBuilder("""
                apiVersion: inference.networking.x-k8s.io/v1alpha1
                kind: EndpointPickerConfig
                plugins:
                - name: endpoints
                  type: file-discovery
                  parameters: {path: %s, watchFile: true}
                - {type: queue-scorer}
                - {type: kv-cache-utilization-scorer}
                - {type: prefix-cache-scorer}
                - name: picker
                  type: max-score-picker
                  parameters: {maxNumOfEndpoints: %d}
                - name: saturation
                  type: utilization-detector
                  parameters: %s
                """.formatted(endpointsFile, spec.pickerEndpoints,
                spec.detectorParameters == null ? "{}" : spec.detectorParameters));
        yaml.append("""
                schedulingProfiles:
                - name: default
                  plugins:
                """);
        if (spec.detectorFilter) {
            yaml.append("  - {pluginRef: saturation}\n");
        }
        yaml.append("""
                  - {pluginRef: queue-scorer, weight: 2}
                  - {pluginRef: kv-cache-utilization-scorer, weight: 2}
                  - {pluginRef: prefix-cache-scorer, weight: 3}
                  - {pluginRef: picker}
                saturationDetector: {pluginRef: saturation}
                dataLayer:
                  discovery: {pluginRef: endpoints}
                """);
        return yaml.toString();
    }

    private String gatewayYaml() {
        StringBuilder yaml = new StringBuilder();
        yaml.append("listen: {host: 127.0.0.1, port: 0}\n");
        yaml.append("timeouts:\n  messageTimeout: ").append(spec.messageTimeout)
                .append("\n  connectTimeout: ").append(spec.connectTimeout)
                .append("\n  responseTimeout: ").append(spec.responseTimeout).append('\n');
        String endpoints = servers.stream().map(Server::hostPort).collect(Collectors.joining(", ", "[", "]"));
        yaml.append("pools:\n");
        for (Pool pool : spec.pools) {
            yaml.append("  - name: ").append(pool.name()).append('\n')
                    .append("    endpointPicker: {address: 127.0.0.1:").append(grpcPort)
                    .append(", tls: ").append(spec.eppTls).append("}\n")
                    .append("    failureMode: ").append(pool.failureMode().yaml).append('\n')
                    .append("    endpoints: ").append(endpoints).append('\n');
        }
        yaml.append("routes:\n");
        for (Route route : spec.routes) {
            yaml.append("  - pathPrefix: ").append(route.pathPrefix()).append('\n');
            if (route.model() != null) {
                yaml.append("    model: ").append(route.model()).append('\n');
            }
            yaml.append("    pool: ").append(route.pool()).append('\n');
            if (!route.subset().isEmpty()) {
                yaml.append("    endpointSubset: ").append(route.subset().stream()
                        .map(i -> servers.get(i).hostPort()).collect(Collectors.joining(", ", "[", "]"))).append('\n');
            }
        }
        return yaml.toString();
    }

    private static String indent(String yaml, String prefix) {
        if (yaml.isBlank()) {
            return "";
        }
        return yaml.lines().map(line -> prefix + line + "\n").collect(Collectors.joining());
    }

    private static void writeAtomically(Path file, String text) {
        try {
            Path temp = Files.createTempFile(file.getParent(), file.getFileName() + ".", ".tmp");
            Files.writeString(temp, text, StandardCharsets.UTF_8);
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** A port nobody listens on at any of {@code hosts} (probed by binding each). */
    static int freePortOnAll(List<String> hosts) {
        for (int attempt = 0; attempt < 50; attempt++) {
            int port;
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(hosts.get(0)))) {
                port = socket.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot bind " + hosts.get(0), e);
            }
            if (hosts.stream().skip(1).allMatch(host -> bindable(host, port))) {
                return port;
            }
        }
        throw new IllegalStateException("no port free on all of " + hosts);
    }

    private static boolean bindable(String host, int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName(host), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    // ---- builder ------------------------------------------------------------------------------------------

    public static final class Builder {
        private final Class<?> owner;
        private int subnet = 20;
        private int serverCount = 4;
        private String simulatorYaml = DEFAULT_SIMULATOR;
        private final Map<Integer, String> serverYaml = new LinkedHashMap<>();
        private boolean processPerServer;
        private Path llmdBinary;
        private List<String> llmdArgs = List.of();
        private String objectsYaml;
        private String detectorParameters;
        private boolean detectorFilter;
        private int pickerEndpoints = 1;
        private boolean eppTls;
        private final List<String> eppFlags = new ArrayList<>();
        private List<Integer> initialEndpoints;
        private int expectReadyPods = -1;
        private boolean gateway = true;
        private final List<Pool> pools = new ArrayList<>();
        private final List<Route> routes = new ArrayList<>();
        private String messageTimeout = "10s";
        private String connectTimeout = "2s";
        private String responseTimeout = "60s";

        private Builder(Class<?> owner) {
            this.owner = Objects.requireNonNull(owner);
        }

        /** Servers listen on {@code 127.0.<subnet>.1..n}; give each test class its own subnet. */
        public Builder subnet(int subnet) {
            this.subnet = subnet;
            return this;
        }

        public Builder servers(int count) {
            this.serverCount = count;
            return this;
        }

        /** The simulator settings shared by every server (simulator flags as YAML keys; no host, port or servers). */
        public Builder simulator(String yaml) {
            this.simulatorYaml = yaml;
            return this;
        }

        /** Extra settings of server {@code index} (e.g. {@code lora-modules}). */
        public Builder server(int index, String yaml) {
            serverYaml.put(index, yaml);
            return this;
        }

        /** One simulator process per server, so that one can be killed alone. */
        public Builder processPerServer() {
            this.processPerServer = true;
            return this;
        }

        /** llm-d-inference-sim servers instead of Lodestar's simulator, each started with {@code args}. */
        public Builder llmdInferenceSim(Path binary, List<String> args) {
            this.llmdBinary = binary;
            this.llmdArgs = List.copyOf(args);
            return this;
        }

        /** InferenceObjective / InferenceModelRewrite YAML documents for {@code --inference-objects-file}. */
        public Builder objects(String yaml) {
            this.objectsYaml = yaml;
            return this;
        }

        /** utilization-detector parameters as YAML flow mapping, e.g. {@code {queueDepthThreshold: 2}}. */
        public Builder saturationDetector(String flowMapping) {
            this.detectorParameters = flowMapping;
            return this;
        }

        /** Also use the utilization-detector as the profile's filter (drops stale and saturated endpoints). */
        public Builder saturationFilter() {
            this.detectorFilter = true;
            return this;
        }

        /** The picker's maxNumOfEndpoints: more than 1 gives the gateway a fallback list. */
        public Builder pickerEndpoints(int count) {
            this.pickerEndpoints = count;
            return this;
        }

        public Builder eppTls(boolean tls) {
            this.eppTls = tls;
            return this;
        }

        public Builder eppFlags(String... flags) {
            eppFlags.addAll(List.of(flags));
            return this;
        }

        /** The EPP's initial pool: these server indexes (default all); ready pods awaited at start follow. */
        public Builder initialEndpoints(Integer... indexes) {
            this.initialEndpoints = List.of(indexes);
            this.expectReadyPods = indexes.length;
            return this;
        }

        /** Start without the gateway (harness checks of simulators and EPP only). */
        public Builder withoutGateway() {
            this.gateway = false;
            return this;
        }

        public Builder pool(String name, FailureMode failureMode) {
            pools.add(new Pool(name, failureMode));
            return this;
        }

        public Builder route(Route route) {
            routes.add(route);
            return this;
        }

        public Builder timeouts(String messageTimeout, String connectTimeout, String responseTimeout) {
            this.messageTimeout = messageTimeout;
            this.connectTimeout = connectTimeout;
            this.responseTimeout = responseTimeout;
            return this;
        }

        /** Starts every process and waits (bounded) until all serve; on failure stops them and throws with logs. */
        public LocalStack start() {
            if (gateway && pools.isEmpty()) {
                pool("llama", FailureMode.FAIL_CLOSE);
            }
            if (gateway && routes.isEmpty()) {
                route(Route.all(pools.get(0).name()));
            }
            LocalStack stack = new LocalStack(this);
            stack.start();
            return stack;
        }
    }
}
