package dev.lodestar.simulator;

/** Why generation stopped, with the value vLLM reports in {@code finish_reason}. */
enum FinishReason {
    STOP("stop"),
    LENGTH("length");

    private final String wireName;

    FinishReason(String wireName) {
        this.wireName = wireName;
    }

    String wireName() {
        return wireName;
    }
}
