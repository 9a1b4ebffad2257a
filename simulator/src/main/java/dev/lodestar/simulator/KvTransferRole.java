package dev.lodestar.simulator;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * What a request's {@code kv_transfer_params} ask of a server whose KV transfer engine is on, with vLLM
 * NixlConnector's meanings (llm-d.md §2.4): nothing, a prefill whose blocks a remote decoder will pull
 * ({@code do_remote_decode}), or a decode whose prompt blocks a remote prefill computed
 * ({@code do_remote_prefill} with the prefill's fields).
 */
sealed interface KvTransferRole {

    /** No P/D: the request runs as usual. */
    record Local() implements KvTransferRole {
    }

    /** {@code do_remote_decode}: prefill only (one token), keep the blocks for a decoder to pull. */
    record PrefillForRemoteDecode() implements KvTransferRole {
    }

    /** {@code do_remote_prefill}: pull the prompt's blocks from {@code remote}, then decode. */
    record DecodeAfterRemotePrefill(RemotePrefill remote) implements KvTransferRole {
    }

    /**
     * Where a prefill left a request's KV blocks: what a prefill answer carries in {@code kv_transfer_params}
     * and a decode request brings back.
     *
     * @param engineId  {@code remote_engine_id}
     * @param host      {@code remote_host}, the prefill's side channel
     * @param port      {@code remote_port}
     * @param requestId {@code remote_request_id}, under which the prefill pinned the blocks
     * @param blockIds  {@code remote_block_ids}, the prompt's blocks in order
     * @param tpSize    {@code tp_size}
     */
    record RemotePrefill(String engineId, String host, int port, String requestId, List<Integer> blockIds,
                         int tpSize) {
        public RemotePrefill {
            blockIds = List.copyOf(blockIds);
        }
    }

    KvTransferRole LOCAL = new Local();

    /**
     * Reads {@code kv_transfer_params} (absent or null: {@link Local}).
     *
     * @throws ApiError 400 naming the field that is missing or of the wrong type
     */
    static KvTransferRole parse(JsonNode params) {
        if (params == null || params.isNull()) {
            return LOCAL;
        }
        if (!params.isObject()) {
            throw bad("kv_transfer_params must be an object");
        }
        boolean remoteDecode = flag(params, "do_remote_decode");
        boolean remotePrefill = flag(params, "do_remote_prefill");
        if (remoteDecode && remotePrefill) {
            throw bad("kv_transfer_params: do_remote_decode and do_remote_prefill cannot both be true");
        }
        if (remoteDecode) {
            return new PrefillForRemoteDecode();
        }
        if (!remotePrefill) {
            return LOCAL;
        }
        JsonNode port = required(params, "remote_port");
        if (!port.canConvertToInt() || !port.isIntegralNumber() || port.asInt() < 1 || port.asInt() > 65535) {
            throw bad("kv_transfer_params.remote_port must be a port number, got " + port);
        }
        JsonNode tpSize = params.get("tp_size");
        int tp = tpSize == null || tpSize.isNull() ? 1 : tpSize.asInt(0);
        if (tp != 1) {
            throw bad("kv_transfer_params.tp_size " + tpSize + " is not supported: the simulator has one rank");
        }
        return new DecodeAfterRemotePrefill(new RemotePrefill(text(params, "remote_engine_id"),
                text(params, "remote_host"), port.asInt(), text(params, "remote_request_id"),
                blockIds(required(params, "remote_block_ids")), tp));
    }

    // A flat list of ids, or (newer vLLM) one list per KV-cache group, of which the simulator has one.
    private static List<Integer> blockIds(JsonNode node) {
        if (node.isArray() && node.size() == 1 && node.get(0).isArray()) {
            node = node.get(0);
        }
        if (!node.isArray()) {
            throw bad("kv_transfer_params.remote_block_ids must be an array of block ids");
        }
        List<Integer> ids = new ArrayList<>(node.size());
        for (JsonNode id : node) {
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0) {
                throw bad("kv_transfer_params.remote_block_ids must hold block ids (integers >= 0), got " + id);
            }
            ids.add(id.asInt());
        }
        return ids;
    }

    private static boolean flag(JsonNode params, String field) {
        JsonNode node = params.get(field);
        if (node == null || node.isNull()) {
            return false;
        }
        if (!node.isBoolean()) {
            throw bad("kv_transfer_params." + field + " must be a boolean");
        }
        return node.asBoolean();
    }

    private static JsonNode required(JsonNode params, String field) {
        JsonNode node = params.get(field);
        if (node == null || node.isNull()) {
            throw bad("kv_transfer_params." + field + " is required with do_remote_prefill");
        }
        return node;
    }

    private static String text(JsonNode params, String field) {
        JsonNode node = required(params, field);
        if (!node.isTextual() || node.asText().isBlank()) {
            throw bad("kv_transfer_params." + field + " must be a non-empty string");
        }
        return node.asText();
    }

    private static ApiError bad(String message) {
        return ApiError.badRequest(message, "kv_transfer_params");
    }
}
