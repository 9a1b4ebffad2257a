package dev.lodestar.epp.datalayer;

/** A metrics payload that is not valid Prometheus text exposition; the message names the line. */
public final class PrometheusFormatException extends RuntimeException {
    private final int lineNumber;

    PrometheusFormatException(int lineNumber, String problem, String line) {
        super("line " + lineNumber + ": " + problem + ": " + abbreviate(line));
        this.lineNumber = lineNumber;
    }

    /** 1-based number of the offending line. */
    public int lineNumber() {
        return lineNumber;
    }

    private static String abbreviate(String line) {
        return line.length() <= 200 ? line : line.substring(0, 200) + "...";
    }
}
