package dev.lodestar.epp.framework.requestcontrol;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The model server's response as response-phase plugins see it, one call per phase: headers, then body
 * (per chunk for streams, once for buffered bodies); {@link #endOfStream()} marks the last call, which
 * also happens when the client goes away. Plugins may add dynamic metadata for the proxy.
 */
public final class Response {
    private final String requestId;
    private final Map<String, String> headers;
    private final boolean endOfStream;
    private final Usage usage;
    private final Map<String, Map<String, Object>> dynamicMetadata = new LinkedHashMap<>();

    public Response(String requestId, Map<String, String> headers, boolean endOfStream, Usage usage) {
        this.requestId = Objects.requireNonNull(requestId, "requestId");
        this.headers = headers == null ? Map.of() : Map.copyOf(headers);
        this.endOfStream = endOfStream;
        this.usage = usage;
    }

    public String requestId() {
        return requestId;
    }

    /** Response headers, lower-case names. */
    public Map<String, String> headers() {
        return headers;
    }

    public boolean endOfStream() {
        return endOfStream;
    }

    /** Usage parsed so far, when the server reported it. */
    public Optional<Usage> usage() {
        return Optional.ofNullable(usage);
    }

    /** Adds {@code namespace/key = value} to the dynamic metadata sent back with this response phase. */
    public void putMetadata(String namespace, String key, Object value) {
        dynamicMetadata.computeIfAbsent(namespace, n -> new LinkedHashMap<>()).put(key, value);
    }

    public Map<String, Map<String, Object>> dynamicMetadata() {
        return dynamicMetadata;
    }
}
