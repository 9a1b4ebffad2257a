package dev.lodestar.simulator;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Arrays;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/** A prefill and a decode adapter in one JVM, over real UCX. */
class NixlKvTransferTest {
    private static final int BLOCK_TOKENS = 16;

    private NixlKvTransfer prefill;
    private NixlKvTransfer decode;

    @BeforeEach
    void start() {
        UcxRequirement.requireUcx();
        prefill = NixlKvTransfer.start(settings("prefill-engine", 64), BLOCK_TOKENS);
        decode = NixlKvTransfer.start(settings("decode-engine", 64), BLOCK_TOKENS);
    }

    @AfterEach
    void stop() {
        if (decode != null) {
            decode.close();
        }
        if (prefill != null) {
            prefill.close();
        }
    }

    private static SimulatorConfig.KvTransfer settings(String engineId, int blocks) {
        return new SimulatorConfig.KvTransfer("127.0.0.1", 0, 4096, blocks, engineId, false);
    }

    private static int[] prompt(int tokens, int salt) {
        return IntStream.range(0, tokens).map(i -> i * 31 + salt).toArray();
    }

    @Test
    void aDecodePullsEveryBlockOfThePromptChecksThemAndFreesThePrefillsPin() {
        int[] tokens = prompt(100, 1);
        KvTransferRole.RemotePrefill handoff = prefill.handOff("cmpl-a", tokens);

        assertThat(handoff.blockIds()).hasSize(7);
        assertThat(handoff.engineId()).isEqualTo("prefill-engine");
        assertThat(handoff.host()).isEqualTo("127.0.0.1");
        assertThat(handoff.port()).isEqualTo(prefill.sideChannelPort());
        assertThat(handoff.requestId()).startsWith("cmpl-a");
        assertThat(prefill.usage()).isEqualTo(new NixlKvTransfer.Usage(64 - 7, 64, 1));

        NixlKvTransfer.Pulled pulled = decode.pull(handoff, tokens, 0);

        assertThat(pulled.blocks()).isEqualTo(7);
        assertThat(pulled.bytes()).isEqualTo(7 * 4096L);
        assertThat(pulled.handshake()).isTrue();
        assertThat(decode.usage().freeBlocks()).as("the decode's staging blocks are returned").isEqualTo(64);
        eventually("the notification frees the prefill's blocks",
                () -> prefill.usage().equals(new NixlKvTransfer.Usage(64, 64, 0)));
    }

    @Test
    void blocksTheDecodeHoldsLocallyAreNotPulledAndAFullHitOnlyNotifies() {
        int[] tokens = prompt(100, 2);
        NixlKvTransfer.Pulled partial = decode.pull(prefill.handOff("cmpl-b", tokens), tokens, 4);
        assertThat(partial.blocks()).isEqualTo(3);
        assertThat(partial.bytes()).isEqualTo(3 * 4096L);

        NixlKvTransfer.Pulled none = decode.pull(prefill.handOff("cmpl-c", tokens), tokens, 7);
        assertThat(none.blocks()).isZero();
        eventually("both pins are freed by notifications", () -> prefill.usage().pinnedPrefills() == 0);
    }

    @Test
    void blocksOfAnotherPromptFailTheDecodeNamingTheFirstBlockThatDiffers() {
        int[] sent = prompt(100, 3);
        int[] other = sent.clone();
        other[40] = -1; // in block 2: blocks 0 and 1 still match, since a block's bytes depend on its prefix
        KvTransferRole.RemotePrefill handoff = prefill.handOff("cmpl-d", sent);

        assertThatThrownBy(() -> decode.pull(handoff, other, 0))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.status()).isEqualTo(500))
                .hasMessageContaining("KV block 2 of the prompt (remote block " + handoff.blockIds().get(2) + ")")
                .hasMessageContaining("prefill engine prefill-engine");
        assertThat(decode.usage().freeBlocks()).isEqualTo(64);
    }

    @Test
    void blockIdsThatDoNotFitThePromptAreABadRequest() {
        int[] tokens = prompt(100, 4);
        KvTransferRole.RemotePrefill handoff = prefill.handOff("cmpl-e", tokens);

        assertThatThrownBy(() -> decode.pull(handoff, prompt(20, 4), 0))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.status()).isEqualTo(400))
                .hasMessageContaining("has 7 blocks, but this prompt of 20 tokens takes 2");
    }

    @Test
    void aFailedHandshakeFailsTheDecodeWithTheReason() {
        int[] tokens = prompt(40, 5);
        KvTransferRole.RemotePrefill handoff = prefill.handOff("cmpl-f", tokens);
        KvTransferRole.RemotePrefill wrongEngine = new KvTransferRole.RemotePrefill("no-such-engine",
                handoff.host(), handoff.port(), handoff.requestId(), handoff.blockIds(), 1);

        assertThatThrownBy(() -> decode.pull(wrongEngine, tokens, 0))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.status()).isEqualTo(500))
                .hasMessageContaining("loading the prompt's KV blocks from prefill engine no-such-engine")
                .hasMessageContaining("failed");
        assertThat(decode.usage().freeBlocks()).isEqualTo(64);
    }

    @Test
    void aPrefillWithoutRoomForItsBlocksIsRefused() {
        prefill.handOff("cmpl-g", prompt(60 * BLOCK_TOKENS, 6));

        assertThatThrownBy(() -> prefill.handOff("cmpl-h", prompt(5 * BLOCK_TOKENS, 6)))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.status()).isEqualTo(503))
                .hasMessageContaining("no room to keep this prefill's 5 KV blocks");
    }

    @Test
    void blockSeedsDependOnThePrefixUpToEachBlocksEnd() {
        int[] longer = prompt(40, 7);
        int[] shorter = Arrays.copyOf(longer, 36);
        long[] a = NixlKvTransfer.blockSeeds(longer, BLOCK_TOKENS);
        long[] b = NixlKvTransfer.blockSeeds(shorter, BLOCK_TOKENS);

        assertThat(a).hasSize(3);
        assertThat(b).hasSize(3);
        assertThat(b[0]).isEqualTo(a[0]);
        assertThat(b[1]).isEqualTo(a[1]);
        assertThat(b[2]).as("a partial last block covers fewer tokens").isNotEqualTo(a[2]);
        assertThat(NixlKvTransfer.blockSeeds(new int[0], BLOCK_TOKENS)).isEmpty();
        assertThat(a).doesNotContain(0L);
    }

    private static void eventually(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within 15 s: " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
