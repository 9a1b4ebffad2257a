package dev.lodestar.kvconnector.transfer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;
import org.msgpack.value.ValueType;

/**
 * What the handshake tells a decoder about a prefill engine, modelled on vLLM's {@code NixlAgentMetadata} and
 * sent inside a {@code NixlHandshakePayload}-like envelope ({@code compatibility_hash},
 * {@code agent_metadata_bytes}), both msgpack maps. Differences from vLLM: {@code agent_metadata} is the UCX
 * worker address (NIXL's serialized agent holds its memory registrations; here they travel in the extra
 * field {@code kv_caches_rkeys}, one packed UCX rkey per region); there is one region (not one per layer);
 * {@code kv_cache_layout} is {@code "flat"} (opaque bytes); {@code block_lens} is bytes per block.
 *
 * @param engineId      {@code engine_id}
 * @param workerAddress {@code agent_metadata}: the UCX worker address
 * @param baseAddresses {@code kv_caches_base_addr}: remote virtual address of each region
 * @param remoteKeys    {@code kv_caches_rkeys}: packed rkey of each region
 * @param numBlocks     {@code num_blocks}
 * @param blockLens     {@code block_lens}: bytes per block of each region
 * @param blockTokens   {@code block_size}: tokens per block
 */
record EngineMetadata(String engineId, byte[] workerAddress, List<Long> baseAddresses, List<byte[]> remoteKeys,
                      int numBlocks, List<Integer> blockLens, int blockTokens) {

    static final String GET_META_MSG = "get_meta_msg";
    static final String LAYOUT = "flat";
    static final int PROTOCOL_VERSION = 1;

    EngineMetadata {
        baseAddresses = List.copyOf(baseAddresses);
        remoteKeys = List.copyOf(remoteKeys);
        blockLens = List.copyOf(blockLens);
        if (baseAddresses.size() != 1 || remoteKeys.size() != 1 || blockLens.size() != 1) {
            throw new IllegalArgumentException("one memory region expected, got " + baseAddresses.size()
                    + " base addresses, " + remoteKeys.size() + " rkeys, " + blockLens.size() + " block lengths");
        }
        if (numBlocks <= 0 || blockLens.get(0) <= 0) {
            throw new IllegalArgumentException("num_blocks and block_lens must be positive");
        }
    }

    int blockBytes() {
        return blockLens.get(0);
    }

    long baseAddress() {
        return baseAddresses.get(0);
    }

    byte[] remoteKey() {
        return remoteKeys.get(0);
    }

    /** Hash of what both sides must agree on to exchange blocks: protocol version, layout, bytes per block. */
    static String compatibilityHash(int blockBytes) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(
                    ("lodestar-kv-transfer/" + PROTOCOL_VERSION + "/" + LAYOUT + "/" + blockBytes)
                            .getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The reply envelope: {@code {compatibility_hash, agent_metadata_bytes}}. */
    byte[] encodePayload() {
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            byte[] meta = encodeMetadata();
            p.packMapHeader(2);
            p.packString("compatibility_hash").packString(compatibilityHash(blockBytes()));
            p.packString("agent_metadata_bytes").packBinaryHeader(meta.length).writePayload(meta);
            return p.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private byte[] encodeMetadata() throws IOException {
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            p.packMapHeader(9);
            p.packString("engine_id").packString(engineId);
            p.packString("agent_metadata").packBinaryHeader(workerAddress.length).writePayload(workerAddress);
            p.packString("kv_caches_base_addr").packArrayHeader(baseAddresses.size());
            for (long a : baseAddresses) {
                p.packLong(a);
            }
            p.packString("kv_caches_rkeys").packArrayHeader(remoteKeys.size());
            for (byte[] k : remoteKeys) {
                p.packBinaryHeader(k.length).writePayload(k);
            }
            p.packString("device_id").packInt(0);
            p.packString("num_blocks").packInt(numBlocks);
            p.packString("block_lens").packArrayHeader(blockLens.size());
            for (int l : blockLens) {
                p.packInt(l);
            }
            p.packString("kv_cache_layout").packString(LAYOUT);
            p.packString("block_size").packInt(blockTokens);
            return p.toByteArray();
        }
    }

    /** An error reply: {@code {error: message}}. */
    static byte[] encodeError(String message) {
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            p.packMapHeader(1);
            p.packString("error").packString(message);
            return p.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The handshake request: {@code ["get_meta_msg", rank]}. */
    static byte[] encodeRequest(int rank) {
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            p.packArrayHeader(2).packString(GET_META_MSG).packInt(rank);
            return p.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Checks a handshake request; returns a message saying what is wrong, or empty when it is valid. */
    static java.util.Optional<String> checkRequest(byte[] request) {
        try (MessageUnpacker u = MessagePack.newDefaultUnpacker(request)) {
            Value v = u.unpackValue();
            if (u.hasNext()) {
                return java.util.Optional.of("trailing bytes after the request");
            }
            if (!v.isArrayValue() || v.asArrayValue().size() < 1 || !v.asArrayValue().get(0).isStringValue()
                    || !GET_META_MSG.equals(v.asArrayValue().get(0).asStringValue().asString())) {
                return java.util.Optional.of("expected a msgpack array [\"get_meta_msg\", rank], got " + v);
            }
            return java.util.Optional.empty();
        } catch (IOException | RuntimeException e) {
            return java.util.Optional.of("not msgpack: " + e.getMessage());
        }
    }

    /** Decodes a reply; throws {@link IllegalArgumentException} with what is wrong (an error reply included). */
    static EngineMetadata decodePayload(byte[] payload, int expectedBlockBytes) {
        Value envelope = unpack(payload, "handshake reply");
        if (!envelope.isMapValue()) {
            throw new IllegalArgumentException("handshake reply is not a msgpack map");
        }
        var map = envelope.asMapValue().map();
        Value error = get(map, "error");
        if (error != null) {
            throw new IllegalArgumentException("the remote engine answered with an error: " + error);
        }
        Value hash = require(map, "compatibility_hash", ValueType.STRING);
        Value bytes = require(map, "agent_metadata_bytes", ValueType.BINARY);
        Value meta = unpack(bytes.asBinaryValue().asByteArray(), "agent_metadata_bytes");
        if (!meta.isMapValue()) {
            throw new IllegalArgumentException("agent_metadata_bytes is not a msgpack map");
        }
        var m = meta.asMapValue().map();
        String layout = require(m, "kv_cache_layout", ValueType.STRING).asStringValue().asString();
        if (!LAYOUT.equals(layout)) {
            throw new IllegalArgumentException("kv_cache_layout '" + layout + "' is not '" + LAYOUT + "'");
        }
        List<Long> bases = new ArrayList<>();
        for (Value a : require(m, "kv_caches_base_addr", ValueType.ARRAY).asArrayValue()) {
            bases.add(a.asIntegerValue().toLong());
        }
        List<byte[]> rkeys = new ArrayList<>();
        for (Value k : require(m, "kv_caches_rkeys", ValueType.ARRAY).asArrayValue()) {
            rkeys.add(k.asBinaryValue().asByteArray());
        }
        List<Integer> lens = new ArrayList<>();
        for (Value l : require(m, "block_lens", ValueType.ARRAY).asArrayValue()) {
            lens.add(l.asIntegerValue().toInt());
        }
        EngineMetadata md = new EngineMetadata(
                require(m, "engine_id", ValueType.STRING).asStringValue().asString(),
                require(m, "agent_metadata", ValueType.BINARY).asBinaryValue().asByteArray(),
                bases, rkeys,
                require(m, "num_blocks", ValueType.INTEGER).asIntegerValue().toInt(),
                lens,
                require(m, "block_size", ValueType.INTEGER).asIntegerValue().toInt());
        if (md.blockBytes() != expectedBlockBytes) {
            throw new IllegalArgumentException("remote blocks are " + md.blockBytes() + " bytes, local blocks "
                    + expectedBlockBytes + "; both engines need the same block size");
        }
        if (!compatibilityHash(expectedBlockBytes).equals(hash.asStringValue().asString())) {
            throw new IllegalArgumentException("compatibility hash mismatch (protocol version or layout differ)");
        }
        return md;
    }

    private static Value unpack(byte[] bytes, String what) {
        try (MessageUnpacker u = MessagePack.newDefaultUnpacker(bytes)) {
            return u.unpackValue();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(what + " is not msgpack: " + e.getMessage(), e);
        }
    }

    private static Value get(java.util.Map<Value, Value> map, String key) {
        for (var e : map.entrySet()) {
            if (e.getKey().isStringValue() && key.equals(e.getKey().asStringValue().asString())) {
                return e.getValue();
            }
        }
        return null;
    }

    private static Value require(java.util.Map<Value, Value> map, String key, ValueType type) {
        Value v = get(map, key);
        if (v == null) {
            throw new IllegalArgumentException("handshake metadata lacks '" + key + "'");
        }
        if (v.getValueType() != type) {
            throw new IllegalArgumentException("handshake metadata '" + key + "' is " + v.getValueType()
                    + ", expected " + type);
        }
        return v;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EngineMetadata e && engineId.equals(e.engineId)
                && Arrays.equals(workerAddress, e.workerAddress) && baseAddresses.equals(e.baseAddresses)
                && remoteKeys.size() == e.remoteKeys.size() && Arrays.equals(remoteKey(), e.remoteKey())
                && numBlocks == e.numBlocks && blockLens.equals(e.blockLens) && blockTokens == e.blockTokens;
    }

    @Override
    public int hashCode() {
        return engineId.hashCode();
    }

    @Override
    public String toString() {
        return "EngineMetadata[engine_id=" + engineId + ", num_blocks=" + numBlocks + ", block_lens=" + blockLens
                + ", block_size=" + blockTokens + ", base=0x" + Long.toHexString(baseAddress()) + "]";
    }
}
