package dev.lodestar.kvconnector.transfer;

import java.nio.charset.StandardCharsets;

/**
 * The decode side's "done with these blocks" message, {@code <remote_request_id>:<consumers>} as vLLM's
 * NixlConnector sends it: the prefill side frees a pinned request's blocks once {@code consumers}
 * notifications for it have arrived (one per consuming rank; 1 without tensor parallelism).
 */
record Notification(String requestId, int consumers) {

    Notification {
        if (requestId.isEmpty()) {
            throw new IllegalArgumentException("notification without a request id");
        }
        if (consumers < 1) {
            throw new IllegalArgumentException("notification consumers must be >= 1, got " + consumers);
        }
    }

    byte[] encode() {
        return (requestId + ":" + consumers).getBytes(StandardCharsets.UTF_8);
    }

    /** Parses {@code id:n}; the id may itself contain ':' (the last one separates the count). */
    static Notification decode(byte[] message) {
        String text = new String(message, StandardCharsets.UTF_8);
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("notification '" + text + "' is not <request_id>:<consumers>");
        }
        int consumers;
        try {
            consumers = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("notification '" + text + "' has a non-numeric consumer count");
        }
        return new Notification(text.substring(0, colon), consumers);
    }
}
