package dev.lodestar.simulator;

/**
 * A request after model resolution and text generation: everything needed to answer it.
 *
 * @param id        response id ({@code cmpl-...} or {@code chatcmpl-...})
 * @param chat      whether it came to {@code /v1/chat/completions}
 * @param model     model name the response reports (the name the client asked for)
 * @param created   unix seconds
 * @param spec      what the engine runs
 * @param generated the answer's tokens and finish reason
 */
record ResolvedRequest(String id, boolean chat, String model, long created, SequenceSpec spec,
                       TextGenerator.Generated generated) {
}
