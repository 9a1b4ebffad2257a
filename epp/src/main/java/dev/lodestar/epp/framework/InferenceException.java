package dev.lodestar.epp.framework;

import java.util.Objects;

/** A request the EPP cannot route, with the code that decides what the client sees. */
public final class InferenceException extends RuntimeException {
    private final ErrorCode code;

    public InferenceException(ErrorCode code, String message) {
        super(message, null, false, false);
        this.code = Objects.requireNonNull(code, "code");
    }

    public InferenceException(ErrorCode code, String message, Throwable cause) {
        super(message, cause, false, false);
        this.code = Objects.requireNonNull(code, "code");
    }

    public ErrorCode code() {
        return code;
    }

    /** The body of the client's error response: {@code inference error: <Code> - <Msg>}. */
    public String clientMessage() {
        return "inference error: " + code.wireName() + " - " + getMessage();
    }
}
