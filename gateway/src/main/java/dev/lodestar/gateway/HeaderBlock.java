package dev.lodestar.gateway;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The headers of one HTTP message as Envoy holds them: lowercase names in arrival order, each with one or more
 * values, pseudo-headers ({@code :method}, {@code :path}, {@code :status}, ...) first. Not thread-safe.
 */
final class HeaderBlock {
    /** Connection-level headers: they describe one hop and are never forwarded (RFC 9110 §7.6.1). */
    static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "transfer-encoding",
            "te", "trailer", "upgrade", "http2-settings");

    private final Map<String, List<String>> values = new LinkedHashMap<>();

    static HeaderBlock create() {
        return new HeaderBlock();
    }

    HeaderBlock add(String name, String value) {
        values.computeIfAbsent(name.toLowerCase(Locale.ROOT), key -> new ArrayList<>(1)).add(value);
        return this;
    }

    HeaderBlock set(String name, String value) {
        List<String> list = new ArrayList<>(1);
        list.add(value);
        values.put(name.toLowerCase(Locale.ROOT), list);
        return this;
    }

    void remove(String name) {
        values.remove(name.toLowerCase(Locale.ROOT));
    }

    boolean contains(String name) {
        return values.containsKey(name.toLowerCase(Locale.ROOT));
    }

    Optional<String> first(String name) {
        List<String> list = values.get(name.toLowerCase(Locale.ROOT));
        return list == null || list.isEmpty() ? Optional.empty() : Optional.of(list.getFirst());
    }

    /** Every (name, value) pair in order; a header with several values gives several pairs. */
    List<Map.Entry<String, String>> entries() {
        List<Map.Entry<String, String>> entries = new ArrayList<>();
        values.forEach((name, list) -> list.forEach(value -> entries.add(Map.entry(name, value))));
        return entries;
    }

    HeaderBlock copy() {
        HeaderBlock copy = new HeaderBlock();
        values.forEach((name, list) -> copy.values.put(name, new ArrayList<>(list)));
        return copy;
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
