package dev.lodestar.kvconnector.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

class EngineMetadataTest {

    private static final EngineMetadata METADATA = new EngineMetadata("engine-1", new byte[] {1, 2, 3},
            List.of(0x7f00_0000_1000L), List.of(new byte[] {9, 8}), 128, List.of(16384), 16);

    @Test
    void thePayloadRoundTripsWithVllmFieldNames() throws IOException {
        byte[] payload = METADATA.encodePayload();
        assertThat(EngineMetadata.decodePayload(payload, 16384)).isEqualTo(METADATA);

        var envelope = MessagePack.newDefaultUnpacker(payload).unpackValue().asMapValue().map();
        assertThat(envelope.keySet().stream().map(Object::toString))
                .containsExactlyInAnyOrder("compatibility_hash", "agent_metadata_bytes");
    }

    @Test
    void aDifferentBlockSizeAnErrorReplyAndGarbageAreRejectedWithReasons() {
        assertThatThrownBy(() -> EngineMetadata.decodePayload(METADATA.encodePayload(), 8192))
                .hasMessageContaining("remote blocks are 16384 bytes, local blocks 8192");
        assertThatThrownBy(() -> EngineMetadata.decodePayload(EngineMetadata.encodeError("bad"), 16384))
                .hasMessageContaining("answered with an error").hasMessageContaining("bad");
        assertThatThrownBy(() -> EngineMetadata.decodePayload(new byte[] {(byte) 0xc1}, 16384))
                .hasMessageContaining("not msgpack");
    }

    @Test
    void requestsAreCheckedForTheGetMetaMessage() throws IOException {
        assertThat(EngineMetadata.checkRequest(EngineMetadata.encodeRequest(0))).isEmpty();
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            p.packArrayHeader(1).packString("hello");
            assertThat(EngineMetadata.checkRequest(p.toByteArray())).hasValueSatisfying(
                    m -> assertThat(m).contains("get_meta_msg"));
        }
        assertThat(EngineMetadata.checkRequest(new byte[] {(byte) 0xc1})).isPresent();
    }
}
