package dev.lodestar.kvconnector.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class BlockPatternTest {

    @Test
    void aFilledBlockVerifiesAndAFlippedByteIsFoundAtItsOffset() {
        ByteBuffer block = ByteBuffer.allocateDirect(4096);
        long seed = BlockPattern.seed("req-1", 3);
        BlockPattern.fill(block, seed);
        assertThat(BlockPattern.firstMismatch(block, seed)).isEmpty();
        assertThat(BlockPattern.firstMismatch(block, BlockPattern.seed("req-1", 4))).hasValue(0);

        block.put(1234, (byte) (block.get(1234) ^ 0x10));
        assertThat(BlockPattern.firstMismatch(block, seed)).hasValue(1234);
    }

    @Test
    void seedsDifferByRequestAndIndex() {
        assertThat(BlockPattern.seed("a", 0)).isNotEqualTo(BlockPattern.seed("a", 1))
                .isNotEqualTo(BlockPattern.seed("b", 0));
    }
}
