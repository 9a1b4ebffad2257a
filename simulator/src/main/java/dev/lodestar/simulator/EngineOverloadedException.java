package dev.lodestar.simulator;

/** The engine's waiting queue is full; the request was not accepted. */
final class EngineOverloadedException extends Exception {
    EngineOverloadedException(String message) {
        super(message);
    }
}
