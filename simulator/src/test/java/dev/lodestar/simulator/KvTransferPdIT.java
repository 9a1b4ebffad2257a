package dev.lodestar.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A prefill simulator and a decode simulator (two servers of one fleet, kv-transfer on) doing both P/D legs
 * by hand, as the routing sidecar would, with a real UCX pull between them; and a third server with
 * kv-transfer off, which ignores {@code kv_transfer_params}.
 */
class KvTransferPdIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "pd-model";
    private static final int BLOCK_BYTES = 8192;
    private static final Duration PREFILL_PER_TOKEN = Duration.ofMillis(2);

    private static Fleet fleet;
    private static SimulatedServer prefill;
    private static SimulatedServer decode;
    private static SimulatedServer plain;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        UcxRequirement.requireUcx();
        SimulatorConfig base = SimulatorConfig.builder().host("127.0.0.1").port(0).model(MODEL)
                .mode(SimulatorConfig.Mode.ECHO).maxModelLen(4096).kvCacheSize(1024).blockSize(16)
                .prefillOverhead(Duration.ofMillis(5)).prefillTimePerToken(PREFILL_PER_TOKEN)
                .interTokenLatency(Duration.ofMillis(1))
                .kvTransfer(true).kvTransferBlockBytes(BLOCK_BYTES).kvTransferNumBlocks(512)
                .build();
        fleet = Fleet.start(List.of(
                base.toBuilder().podName("prefill-pod").kvTransferEngineId("prefill-engine").build(),
                base.toBuilder().podName("decode-pod").kvTransferEngineId("decode-engine").build(),
                base.toBuilder().podName("plain-pod").kvTransfer(false).build()));
        prefill = fleet.servers().get(0);
        decode = fleet.servers().get(1);
        plain = fleet.servers().get(2);
    }

    @AfterAll
    static void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    void chatThroughBothLegsAnswersFromTheDecodeWithThePromptCachedAndFreesThePrefillsBlocks() throws Exception {
        String text = words(300, "chat");
        ObjectNode original = chat(text);
        original.put("max_tokens", 50);

        int pinnedBefore = prefillUsage().pinnedPrefills();
        long prefillStart = System.nanoTime();
        HttpResponse<String> first = post(prefill, "/v1/chat/completions", prefillLeg(original));
        long prefillNanos = System.nanoTime() - prefillStart;
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        JsonNode prefilled = JSON.readTree(first.body());
        int promptTokens = prefilled.at("/usage/prompt_tokens").asInt();
        assertThat(prefilled.at("/usage/completion_tokens").asInt()).isEqualTo(1);
        assertThat(prefilled.at("/choices/0/finish_reason").asText()).isEqualTo("length");
        JsonNode params = prefilled.get("kv_transfer_params");
        assertThat(params.get("do_remote_prefill").asBoolean()).isTrue();
        assertThat(params.get("do_remote_decode").asBoolean()).isFalse();
        assertThat(params.get("remote_engine_id").asText()).isEqualTo("prefill-engine");
        assertThat(params.get("remote_host").asText()).isEqualTo("127.0.0.1");
        assertThat(params.get("remote_port").asInt()).isEqualTo(prefill.kvTransferSideChannelPort().orElseThrow());
        assertThat(params.get("remote_request_id").asText()).startsWith(prefilled.get("id").asText());
        assertThat(params.get("tp_size").asInt()).isEqualTo(1);
        int blocks = (promptTokens + 15) / 16;
        assertThat(params.get("remote_block_ids")).hasSize(blocks);
        assertThat(prefillUsage().pinnedPrefills()).isGreaterThan(pinnedBefore);

        ObjectNode decodeLeg = original.deepCopy();
        decodeLeg.set("kv_transfer_params", params);
        long decodeStart = System.nanoTime();
        HttpResponse<String> second = post(decode, "/v1/chat/completions", decodeLeg);
        long decodeNanos = System.nanoTime() - decodeStart;
        assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
        JsonNode answer = JSON.readTree(second.body());
        assertThat(answer.at("/choices/0/message/content").asText())
                .isEqualTo(JSON.readTree(post(plain, "/v1/chat/completions", original).body())
                        .at("/choices/0/message/content").asText())
                .isNotEmpty();
        assertThat(answer.at("/usage/prompt_tokens").asInt()).isEqualTo(promptTokens);
        assertThat(answer.at("/usage/prompt_tokens_details/cached_tokens").asInt()).isEqualTo(promptTokens);
        assertThat(answer.has("kv_transfer_params")).isFalse();

        // The prefill computed every prompt token; the decode pulled them instead.
        assertThat(prefillNanos).isGreaterThanOrEqualTo(PREFILL_PER_TOKEN.toNanos() * promptTokens);
        assertThat(decodeNanos).isLessThan(prefillNanos / 2);
        eventually("the decoder's notification frees the prefill's blocks",
                () -> prefillUsage().pinnedPrefills() <= pinnedBefore);
        PrometheusText metrics = metrics(decode);
        assertThat(metrics.value("vllm:nixl_bytes_transferred_sum", Map.of("model_name", MODEL)))
                .contains((double) blocks * BLOCK_BYTES);
    }

    @Test
    void aStreamedDecodeAfterAPrefillStreamsTheAnswerWithThePromptCached() throws Exception {
        String text = words(120, "stream");
        ObjectNode original = JSON.createObjectNode();
        original.put("model", MODEL);
        original.put("prompt", text);
        original.put("max_tokens", 30);
        original.put("stream", true);
        original.putObject("stream_options").put("include_usage", true);

        HttpResponse<String> first = post(prefill, "/v1/completions", prefillLeg(original));
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        ObjectNode decodeLeg = original.deepCopy();
        decodeLeg.set("kv_transfer_params", JSON.readTree(first.body()).get("kv_transfer_params"));
        HttpResponse<String> second = post(decode, "/v1/completions", decodeLeg);

        assertThat(second.statusCode()).isEqualTo(200);
        StringBuilder streamed = new StringBuilder();
        JsonNode usage = null;
        for (JsonNode event : events(second.body())) {
            if (event.get("choices").isEmpty()) {
                usage = event.get("usage");
            } else {
                streamed.append(event.at("/choices/0/text").asText());
            }
        }
        ObjectNode aggregated = original.deepCopy();
        aggregated.put("stream", false);
        aggregated.remove("stream_options");
        assertThat(streamed.toString())
                .isEqualTo(JSON.readTree(post(plain, "/v1/completions", aggregated).body()).at("/choices/0/text").asText())
                .isNotEmpty();
        assertThat(usage).isNotNull();
        assertThat(usage.at("/prompt_tokens_details/cached_tokens").asInt()).isEqualTo(usage.get("prompt_tokens").asInt());
    }

    @Test
    void aStreamingPrefillIsRefusedAsLlmdInferenceSimDoes() throws Exception {
        ObjectNode body = chat("hello there");
        body.put("stream", true);
        body.putObject("kv_transfer_params").put("do_remote_decode", true);

        HttpResponse<String> response = post(prefill, "/v1/chat/completions", body);

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(response.body()).get("message").asText()).isEqualTo("Prefill does not support streaming");
    }

    @Test
    void aDecodeWhosePulledBlocksBelongToAnotherPromptFailsNonStreamedAndStreamed() throws Exception {
        ObjectNode original = chat(words(64, "left"));
        HttpResponse<String> first = post(prefill, "/v1/chat/completions", prefillLeg(original));
        JsonNode params = JSON.readTree(first.body()).get("kv_transfer_params");
        ObjectNode other = chat(words(64, "lefu")); // as many tokens, other ones
        other.set("kv_transfer_params", params);
        double failuresBefore = failedTransfers();

        HttpResponse<String> response = post(decode, "/v1/chat/completions", other);

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(JSON.readTree(response.body()).get("message").asText())
                .contains("loading the prompt's KV blocks from prefill engine prefill-engine")
                .contains("differs from this prompt's");
        assertThat(failedTransfers()).isEqualTo(failuresBefore + 1);

        HttpResponse<String> again = post(prefill, "/v1/chat/completions", prefillLeg(original));
        other.set("kv_transfer_params", JSON.readTree(again.body()).get("kv_transfer_params"));
        other.put("stream", true);
        HttpResponse<String> streamed = post(decode, "/v1/chat/completions", other);
        assertThat(streamed.statusCode()).isEqualTo(200);
        assertThat(streamed.body()).contains("\"error\":{\"message\":\"kv-transfer: loading the prompt's KV blocks")
                .endsWith("data: [DONE]\n\n");
    }

    @Test
    void aDecodeWhosePrefillIsUnreachableFailsWithTheReason() throws Exception {
        ObjectNode body = chat("where are my blocks");
        ObjectNode params = body.putObject("kv_transfer_params");
        params.put("do_remote_prefill", true);
        params.putArray("remote_block_ids").add(0);
        params.put("remote_engine_id", "prefill-engine");
        params.put("remote_request_id", "cmpl-gone-1");
        params.put("remote_host", "127.0.0.1");
        params.put("remote_port", decode.kvTransferSideChannelPort().orElseThrow()); // the wrong engine answers

        HttpResponse<String> response = post(decode, "/v1/chat/completions", body);

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(JSON.readTree(response.body()).get("message").asText())
                .contains("(request cmpl-gone-1) failed");
    }

    @Test
    void aServerWithoutKvTransferIgnoresKvTransferParams() throws Exception {
        ObjectNode body = chat("plain old request");
        body.put("stream", true);
        body.putObject("kv_transfer_params").put("do_remote_decode", true);
        assertThat(post(plain, "/v1/chat/completions", body).statusCode()).isEqualTo(200);

        body.remove("stream");
        HttpResponse<String> response = post(plain, "/v1/chat/completions", body);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()).has("kv_transfer_params")).isFalse();
        assertThat(metrics(plain).all("vllm:nixl_xfer_time_seconds_count")).isEmpty();
    }

    /** The NIXL v2 sidecar's prefill body: no streaming, one token, the remote-decode flag. */
    private static ObjectNode prefillLeg(ObjectNode original) {
        ObjectNode leg = original.deepCopy();
        leg.put("stream", false);
        leg.remove("stream_options");
        leg.put("max_tokens", 1);
        ObjectNode params = leg.putObject("kv_transfer_params");
        params.put("do_remote_decode", true);
        params.put("do_remote_prefill", false);
        for (String field : List.of("remote_engine_id", "remote_block_ids", "remote_host", "remote_port")) {
            params.putNull(field);
        }
        return leg;
    }

    private static ObjectNode chat(String content) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", MODEL);
        body.putArray("messages").addObject().put("role", "user").put("content", content);
        return body;
    }

    private static String words(int count, String salt) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < count; i++) {
            text.append(i == 0 ? "" : " ").append(salt).append(i);
        }
        return text.toString();
    }

    private static HttpResponse<String> post(SimulatedServer server, String path, JsonNode body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
                        .header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                        .timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static List<JsonNode> events(String sse) throws Exception {
        List<JsonNode> events = new ArrayList<>();
        for (String block : sse.split("\n\n")) {
            if (block.startsWith("data: ") && !block.equals("data: [DONE]")) {
                events.add(JSON.readTree(block.substring(6)));
            }
        }
        return events;
    }

    private static NixlKvTransfer.Usage prefillUsage() {
        return prefill.kvTransfer().orElseThrow().usage();
    }

    private static double failedTransfers() throws Exception {
        return metrics(decode).value("vllm:nixl_num_failed_transfers_total", Map.of("model_name", MODEL)).orElse(0.0);
    }

    private static PrometheusText metrics(SimulatedServer server) throws Exception {
        return PrometheusText.parse(HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    private static void eventually(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within 15 s: " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
