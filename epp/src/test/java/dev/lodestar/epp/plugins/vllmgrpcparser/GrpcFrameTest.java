package dev.lodestar.epp.plugins.vllmgrpcparser;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class GrpcFrameTest {
    @Test
    void theFirstMessageIsReadAndWhateverFollowsIsIgnored() {
        byte[] body = {0, 0, 0, 0, 2, 'h', 'i', 0, 0, 0, 0, 1, 'x'};

        GrpcFrame frame = GrpcFrame.first(body).orElseThrow();

        assertThat(frame.compressed()).isFalse();
        assertThat(frame.message()).containsExactly('h', 'i');
    }

    @Test
    void anEmptyMessageIsAFrame() {
        assertThat(GrpcFrame.first(new byte[] {0, 0, 0, 0, 0}).orElseThrow().message()).isEmpty();
    }

    @Test
    void onlyFlagOneMeansCompressed() {
        assertThat(GrpcFrame.first(new byte[] {1, 0, 0, 0, 0}).orElseThrow().compressed()).isTrue();
        // As upstream: the flag is compared with 1, so other values read as uncompressed.
        assertThat(GrpcFrame.first(new byte[] {2, 0, 0, 0, 0}).orElseThrow().compressed()).isFalse();
    }

    @Test
    void aPrefixCutShortIsNoFrame() {
        assertThat(GrpcFrame.first(new byte[0])).isEmpty();
        assertThat(GrpcFrame.first(new byte[] {0, 0, 0, 0})).isEmpty();
    }

    @Test
    void aLengthBeyondTheBodyIsNoFrame() {
        assertThat(GrpcFrame.first(new byte[] {0, 0, 0, 0, 3, 'a', 'b'})).isEmpty();
        // "plain text ...": the length reads as 0x6c61696e bytes.
        assertThat(GrpcFrame.first("plain text not grpc payload style".getBytes())).isEmpty();
        // The largest lengths must not wrap around (upstream's uint32 sum does and then panics slicing).
        assertThat(GrpcFrame.first(new byte[] {0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 'a'})).isEmpty();
        assertThat(GrpcFrame.first(new byte[] {0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFB})).isEmpty();
    }
}
