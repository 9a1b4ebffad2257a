package dev.lodestar.kvconnector.sidecar;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;

/**
 * The error replies of llm-d's sidecar: vLLM-shaped JSON ({@code object}, {@code message}, {@code type},
 * {@code param}, {@code code}) for bad bodies and failed legs, and the plain-text SSRF refusal.
 */
public final class SidecarErrors {
    public static final String SSRF_FORBIDDEN = "Forbidden: prefill target not allowed by SSRF protection";
    public static final String DECODER_NOT_READY = "The decode node is not ready. Please check that the vLLM service"
            + " is running and the port configuration is correct.";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private SidecarErrors() {
    }

    /** An error reply: its status and body. */
    public record Reply(int status, String contentType, byte[] body) {
    }

    public static Reply badRequest(String message) {
        return json(400, "BadRequestError", message);
    }

    public static Reply badGateway(String message) {
        return json(502, "BadGateway", message);
    }

    public static Reply decoderNotReady() {
        return json(503, "ServiceUnavailable", DECODER_NOT_READY);
    }

    public static Reply ssrfForbidden() {
        // Go's http.Error: text/plain with a trailing newline.
        return new Reply(403, "text/plain; charset=utf-8", (SSRF_FORBIDDEN + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static Reply json(int code, String type, String message) {
        ObjectNode error = MAPPER.createObjectNode();
        error.put("object", "error");
        error.put("message", message);
        error.put("type", type);
        error.put("param", "");
        error.put("code", code);
        try {
            return new Reply(code, "application/json", MAPPER.writeValueAsBytes(error));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
