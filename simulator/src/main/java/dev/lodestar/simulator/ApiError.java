package dev.lodestar.simulator;

import java.util.Optional;

/**
 * An error answered to the client in vLLM's format:
 * {@code {"object":"error","message":...,"type":"BadRequestError","param":null,"code":400}}.
 */
final class ApiError extends RuntimeException {
    private final int status;
    private final String param;

    ApiError(int status, String message, String param) {
        super(message, null, false, false);
        this.status = status;
        this.param = param;
    }

    static ApiError badRequest(String message) {
        return new ApiError(400, message, null);
    }

    static ApiError badRequest(String message, String param) {
        return new ApiError(400, message, param);
    }

    static ApiError modelNotFound(String model) {
        return new ApiError(404, "The model `" + model + "` does not exist.", "model");
    }

    int status() {
        return status;
    }

    Optional<String> param() {
        return Optional.ofNullable(param);
    }

    /** The error type vLLM and the OpenAI API name for this status. */
    String type() {
        return switch (status) {
            case 400 -> "BadRequestError";
            case 401 -> "AuthenticationError";
            case 403 -> "PermissionDeniedError";
            case 404 -> "NotFoundError";
            case 422 -> "UnprocessableEntityError";
            case 429 -> "RateLimitError";
            default -> status >= 500 ? "InternalServerError" : "APIConnectionError";
        };
    }
}
