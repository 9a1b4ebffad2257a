package dev.lodestar.epp.plugins.disagg;

/** The {@code decision_type} label of the disaggregation decision counters: which stages a request used. */
public enum DecisionType {
    DECODE_ONLY("decode-only"),
    PREFILL_DECODE("prefill-decode"),
    ENCODE_DECODE("encode-decode"),
    ENCODE_PREFILL_DECODE("encode-prefill-decode");

    private final String label;

    DecisionType(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** The decision for the stages that ran and found an endpoint (decode always did). */
    public static DecisionType of(boolean encodeUsed, boolean prefillUsed) {
        if (encodeUsed) {
            return prefillUsed ? ENCODE_PREFILL_DECODE : ENCODE_DECODE;
        }
        return prefillUsed ? PREFILL_DECODE : DECODE_ONLY;
    }
}
