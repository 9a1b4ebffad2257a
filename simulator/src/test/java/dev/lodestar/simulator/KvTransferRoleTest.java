package dev.lodestar.simulator;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KvTransferRoleTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static KvTransferRole parse(String json) throws Exception {
        return KvTransferRole.parse(JSON.readTree(json));
    }

    @Test
    void absentNullOrNeitherFlagIsLocal() throws Exception {
        assertThat(KvTransferRole.parse(null)).isInstanceOf(KvTransferRole.Local.class);
        assertThat(parse("null")).isInstanceOf(KvTransferRole.Local.class);
        assertThat(parse("{}")).isInstanceOf(KvTransferRole.Local.class);
        assertThat(parse("{\"do_remote_decode\":false,\"do_remote_prefill\":false}"))
                .isInstanceOf(KvTransferRole.Local.class);
    }

    @Test
    void theSidecarsPrefillLegIsAPrefillForRemoteDecode() throws Exception {
        // The NIXL v2 sidecar's prefill body: the flag plus the remote fields as nulls.
        assertThat(parse("{\"do_remote_decode\":true,\"do_remote_prefill\":false,\"remote_engine_id\":null,"
                + "\"remote_block_ids\":null,\"remote_host\":null,\"remote_port\":null}"))
                .isInstanceOf(KvTransferRole.PrefillForRemoteDecode.class);
    }

    @Test
    void aDecodeLegCarriesThePrefillsFields() throws Exception {
        KvTransferRole role = parse("{\"do_remote_prefill\":true,\"do_remote_decode\":false,"
                + "\"remote_block_ids\":[3,4,5],\"remote_engine_id\":\"e-1\",\"remote_request_id\":\"cmpl-x-1\","
                + "\"remote_host\":\"10.0.0.7\",\"remote_port\":5600,\"tp_size\":1}");
        assertThat(role).isEqualTo(new KvTransferRole.DecodeAfterRemotePrefill(new KvTransferRole.RemotePrefill(
                "e-1", "10.0.0.7", 5600, "cmpl-x-1", List.of(3, 4, 5), 1)));
    }

    @Test
    void blockIdsPerKvCacheGroupWithOneGroupAreAccepted() throws Exception {
        KvTransferRole role = parse("{\"do_remote_prefill\":true,\"remote_block_ids\":[[7,8]],"
                + "\"remote_engine_id\":\"e\",\"remote_request_id\":\"r\",\"remote_host\":\"h\",\"remote_port\":1}");
        assertThat(((KvTransferRole.DecodeAfterRemotePrefill) role).remote().blockIds()).containsExactly(7, 8);
    }

    @Test
    void badParametersAre400sNamingTheField() {
        String valid = "\"remote_block_ids\":[1],\"remote_engine_id\":\"e\",\"remote_request_id\":\"r\","
                + "\"remote_host\":\"h\",\"remote_port\":1";
        assertBad("[]", "must be an object");
        assertBad("{\"do_remote_decode\":\"yes\"}", "do_remote_decode must be a boolean");
        assertBad("{\"do_remote_decode\":true,\"do_remote_prefill\":true}", "cannot both be true");
        assertBad("{\"do_remote_prefill\":true}", "remote_port is required");
        assertBad("{\"do_remote_prefill\":true," + valid.replace("\"remote_engine_id\":\"e\",", "") + "}",
                "remote_engine_id is required");
        assertBad("{\"do_remote_prefill\":true," + valid.replace("\"remote_port\":1", "\"remote_port\":70000") + "}",
                "remote_port must be a port number");
        assertBad("{\"do_remote_prefill\":true," + valid.replace("[1]", "[\"DUMMY_ID\"]") + "}",
                "remote_block_ids must hold block ids");
        assertBad("{\"do_remote_prefill\":true,\"tp_size\":2," + valid + "}", "tp_size 2 is not supported");
    }

    private static void assertBad(String json, String message) {
        assertThatThrownBy(() -> parse(json))
                .isInstanceOfSatisfying(ApiError.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.param()).contains("kv_transfer_params");
                })
                .hasMessageContaining(message);
    }
}
