package dev.lodestar.kvconnector.sidecar;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * Makes the decode response report the prompt tokens the prefill found cached: the decoder pulled the whole prompt's
 * KV, so its own {@code usage.prompt_tokens_details.cached_tokens} says nothing about the prefix cache.
 *
 * <p>A JSON body is rewritten whole. An event stream is rewritten line by line as it arrives: every complete line
 * is returned at once (so no event waits for the next), a partial line is held until its end arrives or
 * {@link #finish()}. Lines other than {@code data: <JSON>} pass unchanged, and so does JSON without a
 * {@code usage} object. Not thread-safe: one instance per response.
 */
public final class CachedTokensRewriter {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final byte[] DATA_PREFIX = "data: ".getBytes(StandardCharsets.US_ASCII);

    private final int cachedTokens;
    private final ByteArrayOutputStream partialLine = new ByteArrayOutputStream();

    public CachedTokensRewriter(int cachedTokens) {
        this.cachedTokens = cachedTokens;
    }

    /** {@code usage.prompt_tokens_details.cached_tokens} of a response, 0 when absent or not a number. */
    public static int cachedTokens(JsonNode response) {
        JsonNode cached = response.path("usage").path("prompt_tokens_details").path("cached_tokens");
        return cached.isNumber() ? cached.intValue() : 0;
    }

    /** A whole (non-streamed) body: rewritten when it is a JSON object with {@code usage}, else as given. */
    public byte[] rewriteBody(byte[] body) {
        return rewriteJson(body).orElse(body);
    }

    /** The next bytes of an event stream; returns what can be sent now. */
    public byte[] rewriteStreamChunk(byte[] chunk, int length) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(length + 64);
        int lineStart = 0;
        for (int i = 0; i < length; i++) {
            if (chunk[i] == '\n') {
                byte[] line;
                if (partialLine.size() > 0) {
                    partialLine.write(chunk, lineStart, i + 1 - lineStart);
                    line = partialLine.toByteArray();
                    partialLine.reset();
                } else {
                    line = Arrays.copyOfRange(chunk, lineStart, i + 1);
                }
                out.writeBytes(rewriteLine(line));
                lineStart = i + 1;
            }
        }
        partialLine.write(chunk, lineStart, length - lineStart);
        return out.toByteArray();
    }

    /** What is left of an event stream that did not end with a line break. */
    public byte[] finish() {
        if (partialLine.size() == 0) {
            return new byte[0];
        }
        byte[] rest = rewriteLine(partialLine.toByteArray());
        partialLine.reset();
        return rest;
    }

    private byte[] rewriteLine(byte[] line) {
        int trimmed = line.length;
        while (trimmed > 0 && (line[trimmed - 1] == '\n' || line[trimmed - 1] == '\r')) {
            trimmed--;
        }
        int end = trimmed;
        if (end < DATA_PREFIX.length || !Arrays.equals(line, 0, DATA_PREFIX.length, DATA_PREFIX, 0, DATA_PREFIX.length)) {
            return line;
        }
        byte[] data = Arrays.copyOfRange(line, DATA_PREFIX.length, end);
        return rewriteJson(data).map(json -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream(line.length + 16);
            out.writeBytes(DATA_PREFIX);
            out.writeBytes(json);
            out.write(line, end, line.length - end);
            return out.toByteArray();
        }).orElse(line);
    }

    /** The JSON with the count set, or empty when it is not JSON or needs no change. */
    private Optional<byte[]> rewriteJson(byte[] json) {
        JsonNode parsed;
        try {
            parsed = MAPPER.readTree(json);
        } catch (IOException e) {
            return Optional.empty();
        }
        if (parsed == null || !(parsed.get("usage") instanceof ObjectNode usage)) {
            return Optional.empty();
        }
        JsonNode details = usage.get("prompt_tokens_details");
        if (details instanceof ObjectNode detailsObject) {
            JsonNode current = detailsObject.get("cached_tokens");
            if (current != null && current.isIntegralNumber() && current.intValue() == cachedTokens) {
                return Optional.empty();
            }
            detailsObject.put("cached_tokens", cachedTokens);
        } else {
            usage.putObject("prompt_tokens_details").put("cached_tokens", cachedTokens);
        }
        try {
            return Optional.of(MAPPER.writeValueAsBytes(parsed));
        } catch (JsonProcessingException e) {
            return Optional.empty();
        }
    }
}
