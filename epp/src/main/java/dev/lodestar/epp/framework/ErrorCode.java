package dev.lodestar.epp.framework;

import java.util.OptionalInt;

/**
 * The EPP's error codes, with GIE's names. A code with an HTTP status is answered to the client as
 * {@code inference error: <Code> - <Msg>} with that status; a code without one ends the ext_proc stream
 * with a gRPC error, and the proxy applies its failure mode.
 */
public enum ErrorCode {
    BAD_REQUEST("BadRequest", 400),
    UNAUTHORIZED("Unauthorized", 401),
    FORBIDDEN("Forbidden", 403),
    NOT_FOUND("NotFound", 404),
    RESOURCE_EXHAUSTED("ResourceExhausted", 429),
    INTERNAL("Internal", 500),
    SERVICE_UNAVAILABLE("ServiceUnavailable", 503),
    MODEL_SERVER_ERROR("ModelServerError", 0),
    UNKNOWN("Unknown", 0);

    private final String wireName;
    private final int httpStatus;

    ErrorCode(String wireName, int httpStatus) {
        this.wireName = wireName;
        this.httpStatus = httpStatus;
    }

    /** The name used in error bodies and in the {@code error_code} metric label. */
    public String wireName() {
        return wireName;
    }

    /** The HTTP status the client gets, or empty when the code has none. */
    public OptionalInt httpStatus() {
        return httpStatus == 0 ? OptionalInt.empty() : OptionalInt.of(httpStatus);
    }
}
