package dev.lodestar.kvconnector.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class KvBlockLayoutTest {

    @Test
    void offsetsAndSizesUseLongArithmetic() {
        KvBlockLayout layout = KvBlockLayout.of(2 * 1024 * 1024, 2000);
        assertThat(layout.totalBytes()).isEqualTo(2000L * 2 * 1024 * 1024);
        assertThat(layout.offsetOf(1999)).isEqualTo(1999L * 2 * 1024 * 1024);
        assertThat(layout.blockTokens()).isEqualTo(16);
    }

    @Test
    void rejectsSizesThatCannotAddressBlocks() {
        assertThatThrownBy(() -> KvBlockLayout.of(0, 1)).hasMessageContaining("block-bytes");
        assertThatThrownBy(() -> KvBlockLayout.of(12, 1)).hasMessageContaining("multiple of 8");
        assertThatThrownBy(() -> KvBlockLayout.of(8, 0)).hasMessageContaining("num-blocks");
    }
}
