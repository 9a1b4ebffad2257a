package dev.lodestar.simulator;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes the per-token SSE events of one streamed response. Everything but the token text is the same
 * in every event of a stream, so it is encoded once; each token costs one string escape and three
 * writes.
 */
final class TokenChunks {
    private static final JsonStringEncoder ENCODER = JsonStringEncoder.getInstance();

    private final byte[] head;
    private final byte[] tail;
    private final byte[] lastTail;

    TokenChunks(String id, String model, long created, boolean chat, FinishReason finishReason) {
        String object = chat ? "chat.completion.chunk" : "text_completion";
        head = ("data: {\"id\":\"" + quote(id) + "\",\"object\":\"" + object + "\",\"created\":" + created
                + ",\"model\":\"" + quote(model) + "\",\"choices\":[{\"index\":0,"
                + (chat ? "\"delta\":{\"content\":\"" : "\"text\":\"")).getBytes(StandardCharsets.UTF_8);
        String close = chat ? "\"}" : "\"";
        tail = (close + ",\"logprobs\":null,\"finish_reason\":null}]}\n\n").getBytes(StandardCharsets.UTF_8);
        lastTail = (close + ",\"logprobs\":null,\"finish_reason\":\"" + finishReason.wireName() + "\"}]}\n\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** Writes the event of one token; {@code last} marks the token that carries the finish reason. */
    void write(OutputStream out, String text, boolean last) throws IOException {
        out.write(head);
        out.write(ENCODER.quoteAsUTF8(text));
        out.write(last ? lastTail : tail);
    }

    private static String quote(String value) {
        return new String(ENCODER.quoteAsString(value));
    }
}
