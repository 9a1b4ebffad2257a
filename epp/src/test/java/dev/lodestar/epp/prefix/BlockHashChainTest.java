package dev.lodestar.epp.prefix;

import net.openhft.hashing.LongHashFunction;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Expected values were computed with Go's github.com/cespare/xxhash/v2 (the library GIE uses), following
 * GIE v1.5.0's hashPrompt, so a match here means the same chain as the reference EPP.
 */
class BlockHashChainTest {
    private static final byte[] TEN_SENTENCES = tenSentences();

    @Test
    void xxh64SeedZeroMatchesPublishedVectors() {
        LongHashFunction xx = LongHashFunction.xx();
        assertThat(xx.hashBytes(new byte[0])).isEqualTo(0xef46db3751d8e999L);
        assertThat(xx.hashBytes("abc".getBytes(StandardCharsets.US_ASCII))).isEqualTo(0x44bc2cf5ad770999L);
        assertThat(xx.hashBytes("The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.US_ASCII)))
                .isEqualTo(0x0b242d361fda71bcL);
    }

    @Test
    void seedHashesModelThenSalt() {
        assertThat(BlockHashChain.seed("llama-3", "")).isEqualTo(0xbadba014914958d5L);
        assertThat(BlockHashChain.seed("llama-3", "s3cr3t")).isEqualTo(0x3721ce94acc93445L);
        assertThat(BlockHashChain.seed("modèle", "")).isEqualTo(0x86ab7c6f360a3012L);
    }

    @Test
    void chainMatchesGoReferenceAndDropsTrailingPartialBlock() {
        assertThat(TEN_SENTENCES).hasSize(550);
        long[] chain = BlockHashChain.compute("llama-3", "", TEN_SENTENCES, 4, 256);
        // 550 bytes in 16-byte blocks: 34 full blocks, the last 6 bytes are not hashed.
        assertThat(chain).hasSize(34);
        assertThat(chain[0]).isEqualTo(0x3e0389e847c4561dL);
        assertThat(chain[1]).isEqualTo(0xbc3d672680be1605L);
        assertThat(chain[2]).isEqualTo(0x0abee50dfc0cdc2aL);
        assertThat(chain[16]).isEqualTo(0xc2db41a648dac6eaL);
        assertThat(chain[33]).isEqualTo(0x237339f5a7867672L);
    }

    @Test
    void cacheSaltChangesEveryBlockAndMaxBlocksTruncates() {
        long[] chain = BlockHashChain.compute("llama-3", "s3cr3t", TEN_SENTENCES, 4, 3);
        assertThat(chain).containsExactly(0x7031b90760736aa9L, 0x9e19f02e55df2c11L, 0x1f9a793a693885e8L);
    }

    @Test
    void multiByteUtf8IsHashedAsBytes() {
        byte[] input = "héllo wörld ünïcode ✓ test 1234567890 abcdefghij".getBytes(StandardCharsets.UTF_8);
        long[] chain = BlockHashChain.compute("modèle", "", input, 2, 256);
        assertThat(chain).containsExactly(0x7acddaa5e40ff772L, 0x602ca8d526682ab7L, 0x5ea0bb2be7408e62L,
                0x82d8c231d38f686cL, 0x95289b6abd775122L, 0x983c60ccc306a3bfL);
    }

    @Test
    void inputShorterThanOneBlockOrNoBlockSizeGivesNoHash() {
        assertThat(BlockHashChain.compute("m", "", new byte[63], 16, 256)).isEmpty();
        assertThat(BlockHashChain.compute("m", "", new byte[64], 16, 256)).hasSize(1);
        assertThat(BlockHashChain.compute("m", "", new byte[64], 0, 256)).isEmpty();
        assertThat(BlockHashChain.compute("m", "", new byte[64], -1, 256)).isEmpty();
        assertThat(BlockHashChain.compute("m", "", new byte[640], 16, 0)).isEmpty();
    }

    @Test
    void differentModelsNeverShareAChain() {
        long[] a = BlockHashChain.compute("model-a", "", TEN_SENTENCES, 4, 256);
        long[] b = BlockHashChain.compute("model-b", "", TEN_SENTENCES, 4, 256);
        assertThat(a[0]).isNotEqualTo(b[0]);
    }

    @Test
    void sharedPrefixGivesSharedLeadingHashes() {
        byte[] other = TEN_SENTENCES.clone();
        other[100] = 'X';
        long[] a = BlockHashChain.compute("m", "", TEN_SENTENCES, 4, 256);
        long[] b = BlockHashChain.compute("m", "", other, 4, 256);
        // byte 100 is in block 6 (bytes 96..111): blocks 0-5 agree, every later one differs.
        for (int i = 0; i < 6; i++) {
            assertThat(b[i]).isEqualTo(a[i]);
        }
        for (int i = 6; i < a.length; i++) {
            assertThat(b[i]).isNotEqualTo(a[i]);
        }
    }

    private static byte[] tenSentences() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 10; i++) {
            text.append(String.format("block %02d: the quick brown fox jumps over the lazy dog. ", i));
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }
}
