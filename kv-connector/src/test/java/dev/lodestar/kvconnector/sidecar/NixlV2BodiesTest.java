package dev.lodestar.kvconnector.sidecar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class NixlV2BodiesTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static ObjectNode object(String json) throws Exception {
        return (ObjectNode) MAPPER.readTree(json);
    }

    @Test
    void thePrefillBodyAsksForRemoteDecodeOfOneTokenWithoutStreaming() throws Exception {
        ObjectNode original = object("""
                {"model":"m","prompt":"p","stream":true,"stream_options":{"include_usage":true},"max_tokens":9,
                "kv_transfer_params":{"x":1}}""");
        ObjectNode prefill = NixlV2Bodies.prefill(original, ApiKind.CHAT_COMPLETIONS);
        assertThat(prefill).isEqualTo(object("""
                {"model":"m","prompt":"p","stream":false,"max_tokens":1,"max_completion_tokens":1,"min_tokens":1,
                "kv_transfer_params":{"do_remote_decode":true,"do_remote_prefill":false,"remote_engine_id":null,
                "remote_block_ids":null,"remote_host":null,"remote_port":null}}"""));
        assertThat(original.get("max_tokens").intValue()).as("the client's body is untouched").isEqualTo(9);
    }

    @Test
    void generateGetsSamplingParamsWhenItHadNone() throws Exception {
        ObjectNode prefill = NixlV2Bodies.prefill(object("{\"token_ids\":[1]}"), ApiKind.GENERATE);
        assertThat(prefill.get("sampling_params")).isEqualTo(object("{\"max_tokens\":1,\"min_tokens\":1}"));
        assertThat(prefill.has("max_tokens")).isFalse();
    }

    @Test
    void theDecodeBodyIsTheOriginalWithThePrefillsParamsVerbatim() throws Exception {
        ObjectNode original = object("{\"model\":\"m\",\"stream\":true,\"max_tokens\":9}");
        JsonNode params = MAPPER.readTree("{\"remote_block_ids\":[4,5],\"future_field\":{\"a\":[1]},\"tp_size\":2}");
        ObjectNode decode = NixlV2Bodies.decode(original, Optional.of(params));
        assertThat(decode).isEqualTo(object("""
                {"model":"m","stream":true,"max_tokens":9,
                "kv_transfer_params":{"remote_block_ids":[4,5],"future_field":{"a":[1]},"tp_size":2}}"""));
        assertThat(NixlV2Bodies.decode(original, Optional.empty()).get("kv_transfer_params").isNull()).isTrue();
    }

    @Test
    void kvTransferParamsOfAPrefillResponse() throws Exception {
        assertThat(NixlV2Bodies.kvTransferParams(object("{\"kv_transfer_params\":{\"a\":1}}")))
                .hasValue(object("{\"a\":1}"));
        assertThat(NixlV2Bodies.kvTransferParams(object("{}"))).isEmpty();
    }
}
