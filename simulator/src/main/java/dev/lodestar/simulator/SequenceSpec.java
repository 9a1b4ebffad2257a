package dev.lodestar.simulator;

import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * What the engine needs to run one request: its prompt tokens, the tokens it will generate (decided
 * up front by the text generator), the LoRA adapter it names, why it will stop, and its P/D role.
 */
record SequenceSpec(int[] promptTokens, int[] outputTokens, Optional<String> loraAdapter, long kvSeed,
                    FinishReason finishReason, KvTransferRole kvTransfer) {

    SequenceSpec {
        Objects.requireNonNull(promptTokens, "promptTokens");
        Objects.requireNonNull(outputTokens, "outputTokens");
        Objects.requireNonNull(loraAdapter, "loraAdapter");
        Objects.requireNonNull(finishReason, "finishReason");
        Objects.requireNonNull(kvTransfer, "kvTransfer");
        if (outputTokens.length == 0) {
            throw new IllegalArgumentException("a request generates at least one token");
        }
    }

    /** A request without P/D. */
    SequenceSpec(int[] promptTokens, int[] outputTokens, Optional<String> loraAdapter, long kvSeed,
                 FinishReason finishReason) {
        this(promptTokens, outputTokens, loraAdapter, kvSeed, finishReason, KvTransferRole.LOCAL);
    }

    int totalTokens() {
        return promptTokens.length + outputTokens.length;
    }

    /** Prompt followed by output: the sequence whose full blocks stay cached after the request. */
    int[] allTokens() {
        int[] all = Arrays.copyOf(promptTokens, promptTokens.length + outputTokens.length);
        System.arraycopy(outputTokens, 0, all, promptTokens.length, outputTokens.length);
        return all;
    }
}
