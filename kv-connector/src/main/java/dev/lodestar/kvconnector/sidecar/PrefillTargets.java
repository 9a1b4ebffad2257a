package dev.lodestar.kvconnector.sidecar;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntUnaryOperator;

/**
 * The prefill host named by {@code x-prefiller-host-port}: every value of the header, a single value possibly a
 * comma-separated list; the first entry, or with sampling a random one. Entries are {@code host:port}, optionally
 * with the legacy {@code http://} prefix.
 */
public final class PrefillTargets {
    public static final String HEADER = "x-prefiller-host-port";
    private static final String LEGACY_PREFIX = "http://";

    private PrefillTargets() {
    }

    /**
     * @param values   the header's values in order
     * @param sampling pick at random ({@code --enable-prefiller-sampling}) rather than the first
     * @param random   {@code n -> index in [0, n)}
     * @return the chosen {@code host:port} without the legacy prefix; empty when there is none (or it is blank)
     */
    public static Optional<String> choose(List<String> values, boolean sampling, IntUnaryOperator random) {
        List<String> entries = new ArrayList<>();
        if (values.size() == 1) {
            entries.addAll(List.of(values.getFirst().split(",", -1)));
        } else {
            entries.addAll(values);
        }
        if (entries.isEmpty()) {
            return Optional.empty();
        }
        String chosen = (sampling ? entries.get(random.applyAsInt(entries.size())) : entries.getFirst()).strip();
        if (chosen.startsWith(LEGACY_PREFIX)) {
            chosen = chosen.substring(LEGACY_PREFIX.length());
        }
        return chosen.isEmpty() ? Optional.empty() : Optional.of(chosen);
    }

    /** The host of {@code host:port} ({@code [v6]:port} too); the whole text when it has no port. */
    public static String host(String hostPort) {
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf(']');
            return close > 0 ? hostPort.substring(1, close) : hostPort;
        }
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0 || hostPort.indexOf(':') != colon) {
            return hostPort; // no port, or a bare IPv6 address
        }
        return hostPort.substring(0, colon);
    }
}
