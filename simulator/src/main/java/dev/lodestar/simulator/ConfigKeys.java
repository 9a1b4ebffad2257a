package dev.lodestar.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every configuration key of a simulated server: its name (a {@code --flag} and a YAML key alike),
 * default, documentation and how a text value is applied to a {@link SimulatorConfig.Builder}.
 */
final class ConfigKeys {
    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Key> KEYS = new LinkedHashMap<>();

    static {
        add("host", "0.0.0.0", "Address to listen on. With fleet-size > 1, the first of consecutive IPv4 addresses.",
                (b, v) -> b.host(single(v)));
        add("port", "8000", "Port to listen on.", (b, v) -> b.port(integer(v)));
        add("pod-name", "$POD_NAME, else lodestar-sim-<index>", "Name reported in the x-inference-pod header.",
                (b, v) -> b.podName(single(v)));
        add("namespace", "$POD_NAMESPACE", "Namespace reported in the x-inference-namespace header.",
                (b, v) -> b.namespace(single(v)));
        add("model", SimulatorConfig.DEFAULT_MODEL, "Base model name.", (b, v) -> b.model(single(v)));
        addList("served-model-name", "<model>",
                "Names clients may use for the base model (several allowed); the first is reported in metrics.",
                (b, v) -> b.servedModelNames(v));
        add("max-num-seqs", "5", "Requests that run at once; more wait in the queue.",
                (b, v) -> b.maxNumSeqs(integer(v)));
        add("max-model-len", "1024", "Largest prompt + completion, in tokens.", (b, v) -> b.maxModelLen(integer(v)));
        add("max-waiting-queue-length", "1000", "Waiting requests beyond this get 429.",
                (b, v) -> b.maxWaitingQueueLength(integer(v)));
        add("seed", "0", "Seed of random-mode text and of latency jitter.", (b, v) -> b.seed(longValue(v)));
        add("mode", "random", "Response text: 'echo' (repeat the prompt or last message) or 'random'.",
                (b, v) -> b.mode(SimulatorConfig.Mode.parse(single(v))));
        add("latency-calculator", "\"\"",
                "Prefill formula: 'constant' (time-to-first-token), 'per-token' (prefill-overhead + uncached prompt"
                        + " tokens x prefill-time-per-token), or \"\" (constant when time-to-first-token is set).",
                (b, v) -> b.latencyCalculator(LatencyModel.LatencyCalculator.parse(single(v))));
        add("time-to-first-token", "0", "Prefill time of the constant calculator (duration, e.g. 250ms).",
                (b, v) -> b.timeToFirstToken(duration(v)));
        add("time-to-first-token-std-dev", "0", "Jitter of time-to-first-token (<= 30% of it).",
                (b, v) -> b.timeToFirstTokenStdDev(duration(v)));
        add("inter-token-latency", "0", "Time between output tokens (duration).",
                (b, v) -> b.interTokenLatency(duration(v)));
        add("inter-token-latency-std-dev", "0", "Jitter of inter-token-latency (<= 30% of it).",
                (b, v) -> b.interTokenLatencyStdDev(duration(v)));
        add("prefill-overhead", "0", "Fixed prefill cost of the per-token calculator (duration).",
                (b, v) -> b.prefillOverhead(duration(v)));
        add("prefill-time-per-token", "0", "Prefill cost per uncached prompt token (duration).",
                (b, v) -> b.prefillTimePerToken(duration(v)));
        add("prefill-time-std-dev", "0", "Jitter of the per-token prefill time.",
                (b, v) -> b.prefillTimeStdDev(duration(v)));
        add("time-factor-under-load", "1.0",
                "Slow-down of prefill and decode when max-num-seqs requests run; linear in between (>= 1).",
                (b, v) -> b.timeFactorUnderLoad(decimal(v)));
        add("kv-cache-size", "1024", "KV cache size in blocks.", (b, v) -> b.kvCacheSize(integer(v)));
        add("block-size", "16", "Tokens per KV block: 8, 16, 32, 64 or 128.", (b, v) -> b.blockSize(integer(v)));
        add("enable-prefix-caching", "true", "Reuse cached KV blocks of equal prompt prefixes.",
                (b, v) -> b.enablePrefixCaching(bool(v)));
        addList("lora-modules", "none",
                "LoRA adapters, each a JSON object {\"name\":..,\"path\":..} or name=path (several allowed).",
                (b, v) -> b.loraModules(v.stream().map(ConfigKeys::loraModule).toList()));
        add("max-loras", "1", "LoRA adapters loaded at once.", (b, v) -> b.maxLoras(integer(v)));
        add("lora-load-time", "0", "Time to load a LoRA adapter into a free slot (duration).",
                (b, v) -> b.loraLoadTime(duration(v)));
        add("failure-injection-rate", "0", "Percentage (0-100) of requests answered with an injected error.",
                (b, v) -> b.failureInjectionRate(integer(v)));
        addList("failure-types", "all",
                "Errors to inject: rate_limit, invalid_api_key, context_length, server_error, invalid_request,"
                        + " model_not_found (several allowed).",
                (b, v) -> b.failureTypes(v.stream().map(FailureType::parse).toList()));
        add("kv-transfer", "false",
                "P/D roles through a real KV transfer engine (UCX), as vLLM's NixlConnector kv_both: a request with"
                        + " kv_transfer_params.do_remote_decode is a prefill whose blocks a decoder pulls; one with"
                        + " do_remote_prefill pulls them. Off: kv_transfer_params are ignored.",
                (b, v) -> b.kvTransfer(bool(v)));
        add("kv-transfer-side-channel-host", "$VLLM_NIXL_SIDE_CHANNEL_HOST, else host (127.0.0.1 for 0.0.0.0)",
                "Where the transfer handshake listens; prefill answers carry it as remote_host.",
                (b, v) -> b.kvTransferSideChannelHost(single(v)));
        add("kv-transfer-side-channel-port", "$VLLM_NIXL_SIDE_CHANNEL_PORT, else 0 (a free port)",
                "Handshake port; prefill answers carry it as remote_port.",
                (b, v) -> b.kvTransferSideChannelPort(integer(v)));
        add("kv-transfer-block-bytes", "65536", "Bytes of one KV block (block-size tokens) in transfer memory.",
                (b, v) -> b.kvTransferBlockBytes(integer(v)));
        add("kv-transfer-num-blocks", "kv-cache-size",
                "KV blocks of transfer memory (prefill blocks stay pinned until pulled, or 480 s).",
                (b, v) -> b.kvTransferNumBlocks(integer(v)));
        add("kv-transfer-engine-id", "a random UUID", "Engine id; prefill answers carry it as remote_engine_id.",
                (b, v) -> b.kvTransferEngineId(single(v)));
        add("kv-transfer-peer-failure-detection", "true",
                "UCX peer error handling, so a dead peer fails a pull; UCX 1.13 then uses TCP even on one host."
                        + " false allows shared memory.",
                (b, v) -> b.kvTransferPeerFailureDetection(bool(v)));
    }

    private ConfigKeys() {
    }

    static Iterable<Key> all() {
        return KEYS.values();
    }

    static boolean isKey(String name) {
        return KEYS.containsKey(name);
    }

    /**
     * Applies {@code values} (one or more texts) to {@code builder} under {@code name}.
     *
     * @throws IllegalArgumentException for an unknown key or a value it cannot take, naming both
     */
    static void apply(SimulatorConfig.Builder builder, String name, List<String> values) {
        Key key = KEYS.get(name);
        if (key == null) {
            throw new IllegalArgumentException("unknown configuration key '" + name + "'");
        }
        if (!key.multiValued() && values.size() != 1) {
            throw new IllegalArgumentException(name + " takes one value, got " + values.size());
        }
        try {
            key.setter().accept(builder, values);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid " + name + " " + values + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses a duration: a Go duration string ("250ms", "1.5s", "1m30s", "750us") as llm-d-inference-sim
     * takes, or a bare number of milliseconds.
     */
    static Duration duration(String text) {
        String value = text.trim();
        if (value.matches("\\d+")) {
            return Duration.ofMillis(Long.parseLong(value));
        }
        Matcher matcher = DURATION_PART.matcher(value);
        long nanos = 0;
        int end = 0;
        while (matcher.find() && matcher.start() == end) {
            double amount = Double.parseDouble(matcher.group(1));
            double unit = switch (matcher.group(2)) {
                case "ns" -> 1;
                case "us", "µs", "μs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            nanos += Math.round(amount * unit);
            end = matcher.end();
        }
        if (end == 0 || end != value.length()) {
            throw new IllegalArgumentException(
                    "'" + text + "' is not a duration (use e.g. 250ms, 1.5s, 750us, or a number of milliseconds)");
        }
        return Duration.ofNanos(nanos);
    }

    static SimulatorConfig.LoraModule loraModule(String text) {
        String value = text.trim();
        if (value.startsWith("{")) {
            try {
                JsonNode node = JSON.readTree(value);
                JsonNode name = node.get("name");
                if (name == null || !name.isTextual()) {
                    throw new IllegalArgumentException("LoRA module " + value + " has no \"name\"");
                }
                JsonNode path = node.get("path");
                return new SimulatorConfig.LoraModule(name.asText(),
                        path != null && path.isTextual() ? path.asText() : name.asText());
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalArgumentException("LoRA module is not valid JSON: " + value, e);
            }
        }
        int equals = value.indexOf('=');
        if (equals > 0) {
            return new SimulatorConfig.LoraModule(value.substring(0, equals), value.substring(equals + 1));
        }
        return new SimulatorConfig.LoraModule(value, value);
    }

    private static void add(String name, String defaultText, String description,
                            BiConsumer<SimulatorConfig.Builder, String> setter) {
        KEYS.put(name, new Key(name, defaultText, description, false, (b, values) -> setter.accept(b, values.get(0))));
    }

    private static void addList(String name, String defaultText, String description,
                                BiConsumer<SimulatorConfig.Builder, List<String>> setter) {
        KEYS.put(name, new Key(name, defaultText, description, true, (b, values) -> setter.accept(b, flatten(values))));
    }

    // "a,b" and "a b" forms both give [a, b] for name lists; JSON objects are kept whole.
    private static List<String> flatten(List<String> values) {
        List<String> out = new ArrayList<>();
        for (String value : values) {
            if (value.trim().startsWith("{")) {
                out.add(value.trim());
                continue;
            }
            for (String part : value.split(",")) {
                if (!part.isBlank()) {
                    out.add(part.trim());
                }
            }
        }
        return out;
    }

    private static String single(String value) {
        return value;
    }

    private static int integer(String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + value + "' is not an integer");
        }
    }

    private static long longValue(String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + value + "' is not an integer");
        }
    }

    private static double decimal(String value) {
        try {
            return Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + value + "' is not a number");
        }
    }

    private static boolean bool(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("'" + value + "' is not true or false");
        };
    }

    /** One configuration key. */
    record Key(String name, String defaultText, String description, boolean multiValued,
               BiConsumer<SimulatorConfig.Builder, List<String>> setter) {
    }
}
