package dev.lodestar.kvconnector.sidecar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Optional;

/**
 * The request bodies of the two legs of llm-d's NIXL v2 protocol, from the client's body. The client's body is
 * never changed: the decode leg is that body plus the prefill's {@code kv_transfer_params}, which is what restoring
 * the fields the prefill leg forced amounts to.
 */
public final class NixlV2Bodies {
    static final String KV_TRANSFER_PARAMS = "kv_transfer_params";
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private NixlV2Bodies() {
    }

    /**
     * The prefill leg: asks the prefill engine to keep the KV for a remote decoder ({@code do_remote_decode}, the
     * remote fields null), without streaming, generating one token.
     */
    public static ObjectNode prefill(ObjectNode original, ApiKind api) {
        ObjectNode body = original.deepCopy();
        ObjectNode params = JSON.objectNode();
        params.put("do_remote_decode", true);
        params.put("do_remote_prefill", false);
        params.putNull("remote_engine_id");
        params.putNull("remote_block_ids");
        params.putNull("remote_host");
        params.putNull("remote_port");
        body.set(KV_TRANSFER_PARAMS, params);
        body.put("stream", false);
        body.remove("stream_options");
        ObjectNode limits = body;
        if (api.limitsInSamplingParams()) {
            JsonNode sampling = body.get("sampling_params");
            if (sampling instanceof ObjectNode samplingObject) {
                limits = samplingObject;
            } else {
                limits = body.putObject("sampling_params");
            }
        }
        for (String field : api.tokenLimitFields()) {
            limits.put(field, 1);
        }
        return body;
    }

    /**
     * The decode leg: the client's body with {@code kv_transfer_params} set to what the prefill returned, verbatim
     * (JSON null when the prefill returned none, as upstream sends it).
     */
    public static ObjectNode decode(ObjectNode original, Optional<JsonNode> prefillKvTransferParams) {
        ObjectNode body = original.deepCopy();
        body.set(KV_TRANSFER_PARAMS, prefillKvTransferParams.<JsonNode>map(JsonNode::deepCopy).orElse(JSON.nullNode()));
        return body;
    }

    /** The prefill response's top-level {@code kv_transfer_params}, if present. */
    public static Optional<JsonNode> kvTransferParams(JsonNode prefillResponse) {
        return Optional.ofNullable(prefillResponse.get(KV_TRANSFER_PARAMS));
    }
}
