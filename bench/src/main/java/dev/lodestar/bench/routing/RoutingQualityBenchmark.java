package dev.lodestar.bench.routing;

import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Routing quality on the local stack (issue 6, benchmark 3): an open-loop load generator sends streaming chat
 * completions through the dev gateway, whose EPP runs one routing configuration, to 8 simulated servers.
 * {@code bench/routing-quality.sh} starts the stack once per configuration and runs this class twice:
 *
 * <ul>
 *   <li>{@code run --config-name NAME ...}: every workload (shared-prefix, multi-turn, random), each through
 *       the same Poisson rate stages with the same prompts and arrival times as the other configurations,
 *       into {@code raw-NAME.json};</li>
 *   <li>{@code report --results DIR --configs a,b,...}: merges the raw files into {@code routing-quality.json},
 *       {@code routing-quality.md} and PNG plots.</li>
 * </ul>
 */
public final class RoutingQualityBenchmark {
    private RoutingQualityBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !(args[0].equals("run") || args[0].equals("report"))) {
            throw new IllegalArgumentException("usage: run --config-name NAME --gateway HOST:PORT --servers A,B,... "
                    + "--out FILE [--quick] [--round-robin] [--rates 4,8] [--stage-seconds S] ... | "
                    + "report --results DIR --configs a,b,...");
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        if (args[0].equals("report")) {
            report(rest);
        } else {
            run(Settings.parse(rest));
        }
        System.exit(0); // OkHttp's pool threads would keep the JVM alive for a while
    }

    private static void report(String[] args) throws IOException {
        Path directory = null;
        List<String> configs = List.of();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--results" -> directory = Path.of(args[++i]);
                case "--configs" -> configs = List.of(args[++i].split(","));
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (known: --results --configs)");
            }
        }
        if (directory == null || configs.isEmpty()) {
            throw new IllegalArgumentException("report needs --results and --configs");
        }
        List<Path> files = new ArrayList<>();
        for (String config : configs) {
            Path file = directory.resolve("raw-" + config + ".json");
            if (Files.exists(file)) {
                files.add(file);
            } else {
                System.err.println("no results for " + config + " (" + file + ")");
            }
        }
        String markdown = Report.write(directory, Results.read(files));
        System.out.println();
        System.out.print(markdown);
        System.out.println("\nresults: " + directory);
    }

    static List<Workload> workloads(Settings s) {
        List<Workload> all = new ArrayList<>();
        for (String name : s.workloads) {
            all.add(switch (name) {
                case "shared-prefix" -> Workload.sharedPrefix(101, s.groups, s.usersPerGroup, s.systemPromptTokens,
                        s.questionTokens, s.outputTokens);
                case "multi-turn" -> Workload.multiTurn(202, s.conversations, s.turns, s.chatSystemPromptTokens,
                        s.chatMessageTokens, s.outputTokens);
                case "random" -> Workload.random(303, s.systemPromptTokens + s.questionTokens, s.outputTokens);
                default -> throw new IllegalArgumentException("unknown workload " + name
                        + " (known: shared-prefix, multi-turn, random)");
            });
        }
        return all;
    }

    private static void run(Settings s) throws Exception {
        OkHttpClient http = new OkHttpClient.Builder()
                .connectionPool(new ConnectionPool(2048, 5, TimeUnit.MINUTES))
                .connectTimeout(Duration.ofSeconds(5)).readTimeout(Duration.ofSeconds(60))
                .retryOnConnectionFailure(false).build();
        String url = "http://" + s.gateway + "/v1/chat/completions";
        List<String> roundRobin = s.roundRobin ? s.servers : List.of();
        OpenLoopClient client = new OpenLoopClient(http, url, s.model, roundRobin, Duration.ofSeconds(s.timeoutSeconds));
        FleetMetrics fleet = new FleetMetrics(http, s.servers);
        probe(http, url, s, roundRobin);

        List<OpenLoopClient.Stage> stages = new ArrayList<>();
        for (double rate : s.rates) {
            stages.add(new OpenLoopClient.Stage(rate, s.stageSeconds));
        }
        // Every request ends within its timeout (OkHttp's call timeout); the margin is for the last ones' threads.
        Duration drain = Duration.ofSeconds(s.timeoutSeconds + 2);
        if (s.warmupSeconds > 0) {
            System.out.printf(Locale.ROOT, "[%s] warm-up: %d s of random prompts at %.1f req/s (not measured)%n",
                    s.configName, s.warmupSeconds, s.warmupRate);
            client.run(s.configName, Workload.random(999, 256, s.outputTokens),
                    List.of(new OpenLoopClient.Stage(s.warmupRate, s.warmupSeconds)), 999, null, drain,
                    s.configName + " warm-up");
        }
        Results results = new Results();
        results.setup().put("description", s.fleetDescription)
                .put("rates", Arrays.toString(s.rates)).put("stageSeconds", s.stageSeconds)
                .put("timeoutSeconds", s.timeoutSeconds).put("quick", s.quick)
                .put("machineCores", Runtime.getRuntime().availableProcessors())
                .put("javaVersion", System.getProperty("java.version"));
        List<Workload> workloads = workloads(s);
        for (int w = 0; w < workloads.size(); w++) {
            Workload workload = workloads.get(w);
            System.out.printf(Locale.ROOT, "[%s] %s (%s): rates %s req/s x %d s%n", s.configName, workload.name(),
                    workload.description(), Arrays.toString(s.rates), s.stageSeconds);
            List<StageStats> measured = client.run(s.configName, workload, stages, 1000 + w, fleet, drain,
                    s.configName);
            results.add(s.configName, workload, measured);
            for (StageStats stage : measured) {
                System.out.print(Report.row(s.configName + " " + workload.name(),
                        Report.rate(stage.rate()), stage));
            }
            // Partial results survive a failure in a later workload.
            results.write(s.out);
        }
        System.out.println("[" + s.configName + "] wrote " + s.out);
    }

    /** One request through the whole path first: a broken stack fails here, before minutes of load. */
    private static void probe(OkHttpClient http, String url, Settings s, List<String> roundRobin) throws Exception {
        String body = "{\"model\":\"" + s.model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"probe\"}],"
                + "\"max_tokens\":2,\"stream\":true}";
        String last = "";
        for (int attempt = 0; attempt < 30; attempt++) {
            Request.Builder request = new Request.Builder().url(url)
                    .post(okhttp3.RequestBody.create(body, okhttp3.MediaType.get("application/json")));
            if (!roundRobin.isEmpty()) {
                request.header("test-epp-endpoint-selection", roundRobin.getFirst());
            }
            try (Response response = http.newCall(request.build()).execute()) {
                String text = response.body().string();
                if (response.code() == 200 && text.contains("data: [DONE]")) {
                    return;
                }
                last = "HTTP " + response.code() + ": " + text.substring(0, Math.min(300, text.length()));
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("probe through " + url + " kept failing: " + last);
    }

    /** Command-line settings of {@code run}; {@code --quick} shrinks stages and workloads for a smoke run. */
    static final class Settings {
        String configName;
        String gateway;
        List<String> servers = List.of();
        boolean roundRobin;
        boolean quick;
        Path out;
        String model = "meta-llama/Llama-3.1-8B-Instruct";
        String fleetDescription = "";
        List<String> workloads = List.of("shared-prefix", "multi-turn", "random");
        double[] rates = {4, 8, 12, 16};
        int stageSeconds = 20;
        int timeoutSeconds = 30;
        int warmupSeconds = 8;
        double warmupRate = 3;
        // llm-d's shared-prefix benchmark (inference-perf): 32 groups x 32 prompts, system prompt 2048,
        // question 256, output 256 tokens; scaled down here, keeping system:question = 8:1.
        int groups = 16;
        int usersPerGroup = 8;
        int systemPromptTokens = 1024;
        int questionTokens = 128;
        int outputTokens = 32;
        int conversations = 32;
        int turns = 6;
        int chatSystemPromptTokens = 512;
        int chatMessageTokens = 96;

        static Settings parse(String[] args) {
            Settings s = new Settings();
            // --quick first, so explicit settings after it win whatever the order.
            if (Arrays.asList(args).contains("--quick")) {
                s.quick = true;
                s.rates = new double[] {3, 8};
                s.stageSeconds = 5;
                s.timeoutSeconds = 8;
                s.warmupSeconds = 3;
                s.groups = 8;
                s.usersPerGroup = 4;
                s.conversations = 16;
                s.turns = 4;
            }
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--quick" -> { }
                    case "--config-name" -> s.configName = args[++i];
                    case "--gateway" -> s.gateway = args[++i];
                    case "--servers" -> s.servers = List.of(args[++i].split(","));
                    case "--round-robin" -> s.roundRobin = true;
                    case "--out" -> s.out = Path.of(args[++i]);
                    case "--model" -> s.model = args[++i];
                    case "--fleet-description" -> s.fleetDescription = args[++i];
                    case "--workloads" -> s.workloads = List.of(args[++i].split(","));
                    case "--rates" -> s.rates = Arrays.stream(args[++i].split(",")).mapToDouble(Double::parseDouble).toArray();
                    case "--stage-seconds" -> s.stageSeconds = Integer.parseInt(args[++i]);
                    case "--timeout-seconds" -> s.timeoutSeconds = Integer.parseInt(args[++i]);
                    case "--warmup-seconds" -> s.warmupSeconds = Integer.parseInt(args[++i]);
                    case "--groups" -> s.groups = Integer.parseInt(args[++i]);
                    case "--users-per-group" -> s.usersPerGroup = Integer.parseInt(args[++i]);
                    case "--system-prompt-tokens" -> s.systemPromptTokens = Integer.parseInt(args[++i]);
                    case "--question-tokens" -> s.questionTokens = Integer.parseInt(args[++i]);
                    case "--output-tokens" -> s.outputTokens = Integer.parseInt(args[++i]);
                    case "--conversations" -> s.conversations = Integer.parseInt(args[++i]);
                    case "--turns" -> s.turns = Integer.parseInt(args[++i]);
                    default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (known: --quick "
                            + "--config-name --gateway --servers --round-robin --out --model --fleet-description "
                            + "--workloads --rates --stage-seconds --timeout-seconds --warmup-seconds --groups "
                            + "--users-per-group --system-prompt-tokens --question-tokens --output-tokens "
                            + "--conversations --turns)");
                }
            }
            if (s.configName == null || s.gateway == null || s.servers.isEmpty() || s.out == null) {
                throw new IllegalArgumentException("--config-name, --gateway, --servers and --out are required "
                        + "(bench/routing-quality.sh passes them)");
            }
            return s;
        }
    }
}
