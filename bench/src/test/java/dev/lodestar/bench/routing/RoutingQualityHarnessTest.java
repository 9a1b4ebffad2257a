package dev.lodestar.bench.routing;

import dev.lodestar.simulator.Fleet;
import dev.lodestar.simulator.SimulatorConfig;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The routing-quality harness without the EPP and gateway (bench/routing-quality.sh --quick needs ~4 min and
 * 4 stack restarts, too long for a unit test): the workload generators, the open-loop client against two
 * in-process simulated servers, and the report with its plots.
 */
class RoutingQualityHarnessTest {
    @Test
    void sharedPrefixRequestsShareTheirGroupsSystemPromptAndAreDeterministic() {
        Workload a = Workload.sharedPrefix(1, 4, 3, 100, 20, 8);
        Workload b = Workload.sharedPrefix(1, 4, 3, 100, 20, 8);
        Set<String> systemPrompts = new HashSet<>();
        Set<String> questions = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            Workload.ChatRequest request = a.next();
            assertThat(request).isEqualTo(b.next());
            assertThat(request.messages()).hasSize(2);
            assertThat(Workload.Words.count(request.messages().get(0).content())).isEqualTo(100);
            assertThat(Workload.Words.count(request.messages().get(1).content())).isEqualTo(20);
            assertThat(request.maxTokens()).isEqualTo(8);
            systemPrompts.add(request.messages().get(0).content());
            questions.add(request.messages().get(1).content());
        }
        assertThat(systemPrompts).hasSize(4);
        assertThat(questions).hasSize(12);
        assertThat(Workload.sharedPrefix(2, 4, 3, 100, 20, 8).next()).isNotEqualTo(a.next());
    }

    @Test
    void multiTurnResendsTheHistoryWithTheAnswersAndReplacesFinishedConversations() {
        Workload chat = Workload.multiTurn(5, 1, 2, 50, 10, 4);
        Workload.ChatRequest first = chat.next();
        assertThat(first.messages()).extracting(Workload.Message::role).containsExactly("system", "user");
        chat.completed(first, "the answer");
        Workload.ChatRequest second = chat.next();
        assertThat(second.messages()).extracting(Workload.Message::role)
                .containsExactly("system", "user", "assistant", "user");
        assertThat(second.messages().subList(0, 2)).isEqualTo(first.messages());
        assertThat(second.messages().get(2).content()).isEqualTo("the answer");
        // Every live conversation waits for an answer: the next arrival starts another one.
        Workload.ChatRequest extra = chat.next();
        assertThat(extra.messages()).hasSize(2);
        assertThat(extra.messages().getFirst()).isNotEqualTo(first.messages().getFirst());
        chat.completed(second, "done");
        chat.completed(extra, null); // failed: the turn is dropped and retried later
        Workload.ChatRequest third = chat.next();
        assertThat(third.messages()).hasSize(2); // the 2-turn conversation was replaced
    }

    @Test
    void randomPromptsShareNothing() {
        Workload random = Workload.random(3, 64, 8);
        Set<String> prefixes = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            String prompt = random.next().messages().getFirst().content();
            assertThat(Workload.Words.count(prompt)).isEqualTo(64);
            prefixes.add(prompt.substring(0, 20));
        }
        assertThat(prefixes).hasSize(50);
    }

    @Test
    void openLoopClientMeasuresTwoSimulatedServersAndTheReportWritesJsonMarkdownAndPlots(@TempDir Path directory)
            throws Exception {
        List<SimulatorConfig> configs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            configs.add(SimulatorConfig.builder().host("127.0.0.1").port(0).maxNumSeqs(8).maxModelLen(4096)
                    .kvCacheSize(512).blockSize(16).prefillOverhead(Duration.ofMillis(2))
                    .prefillTimePerToken(Duration.ofMillis(1)).interTokenLatency(Duration.ofMillis(2)).build());
        }
        try (Fleet fleet = Fleet.start(configs)) {
            List<String> servers = fleet.servers().stream().map(s -> s.host() + ":" + s.port()).toList();
            OkHttpClient http = new OkHttpClient();
            FleetMetrics metrics = new FleetMetrics(http, servers);
            Results results = new Results();
            results.setup().put("description", "2 in-process simulated servers");
            // Two "configurations" at the same stages: round-robin over both servers (the header is ignored
            // without an EPP, so the client alternates by URL here) and everything to one server.
            for (String config : List.of(Report.ROUND_ROBIN, Report.DEFAULT)) {
                String url = "http://" + servers.getFirst() + "/v1/chat/completions";
                OpenLoopClient client = new OpenLoopClient(http, url, "meta-llama/Llama-3.1-8B-Instruct", List.of(),
                        Duration.ofSeconds(10));
                Workload workload = Workload.sharedPrefix(7, 2, 2, 200, 20, 4);
                List<StageStats> stages = client.run(config, workload, List.of(new OpenLoopClient.Stage(10, 1),
                        new OpenLoopClient.Stage(20, 1)), 42, metrics, Duration.ofSeconds(10), config);
                assertThat(stages).hasSize(2);
                for (StageStats stage : stages) {
                    assertThat(stage.sent).isPositive();
                    assertThat(stage.failed).as("errors: %s", stage.errors).isZero();
                    assertThat(stage.succeeded).isEqualTo(stage.sent);
                    assertThat(stage.ttftMs(50)).isPositive();
                    assertThat(stage.itl.getTotalCount()).isEqualTo(3 * stage.succeeded);
                    assertThat(stage.outputTokens).isEqualTo(4 * stage.succeeded);
                }
                // 2 system prompts repeat: the servers report prefix hits, the requests cached tokens.
                StageStats whole = StageStats.merge(config, workload.name(), stages);
                assertThat(whole.fleetHitRate()).isGreaterThan(0.3);
                assertThat(whole.requestCachedShare()).isGreaterThan(0.3);
                results.add(config, workload, stages);
            }
            Path raw = directory.resolve("raw.json");
            results.write(raw);
            Results reread = Results.read(List.of(raw));
            assertThat(reread.configs()).containsExactly(Report.ROUND_ROBIN, Report.DEFAULT);
            assertThat(reread.whole(Report.DEFAULT, "shared-prefix").ttftMs(90))
                    .isEqualTo(results.whole(Report.DEFAULT, "shared-prefix").ttftMs(90));

            String markdown = Report.write(directory, reread);
            assertThat(markdown).contains("## Target", "## shared-prefix", "| default | 10 |",
                    "cdf-ttft-shared-prefix.png", "Target (default TTFT p90");
            assertThat(Results.JSON.readTree(directory.resolve("routing-quality.json").toFile())
                    .path("target").path("verdict").asText()).isNotEmpty();
            assertThat(Results.JSON.readTree(directory.resolve("routing-quality.json").toFile())
                    .path("target").path("llmdRouterVerdict").asText()).isEqualTo("not measured: no llm-d-router run");
            for (String png : List.of("cdf-ttft-shared-prefix.png", "cdf-itl-shared-prefix.png",
                    "cdf-e2e-shared-prefix.png", "ttft-p90-per-stage-shared-prefix.png", "throughput-shared-prefix.png")) {
                assertThat(isPng(directory.resolve(png))).as(png).isTrue();
            }
        }
    }

    private static boolean isPng(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        return bytes.length > 1000 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G';
    }
}
