package dev.lodestar.epp.plugins.concurrencydetector;

import dev.lodestar.epp.framework.scheduling.LlmRequest;

import java.nio.charset.StandardCharsets;

/**
 * Upstream's simple token estimate of a request (input and expected output), used by the
 * {@code tokens} mode: input = body bytes / 4 (at least 1), or, when the body size is unknown, UTF-8 bytes
 * of the prompt text / 4 rounded (at least 1); output = input x 1.5 rounded; estimate = input + output.
 */
public final class TokenEstimate {
    private static final double CHARACTERS_PER_TOKEN = 4.0;
    private static final double OUTPUT_RATIO = 1.5;

    private TokenEstimate() {
    }

    public static long of(LlmRequest request) {
        long input;
        if (request.requestSizeBytes() > 0) {
            input = Math.max(request.requestSizeBytes() / 4, 1);
        } else {
            int characters = request.body().promptText().getBytes(StandardCharsets.UTF_8).length;
            input = Math.max(1, Math.round(characters / CHARACTERS_PER_TOKEN));
        }
        return input + Math.round(input * OUTPUT_RATIO);
    }
}
