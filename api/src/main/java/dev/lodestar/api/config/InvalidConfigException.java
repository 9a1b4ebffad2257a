package dev.lodestar.api.config;

/** A configuration the EPP cannot start with; the message says what and where. */
public final class InvalidConfigException extends RuntimeException {
    public InvalidConfigException(String message) {
        super(message);
    }

    public InvalidConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
