package dev.lodestar.epp.framework.datalayer;

import java.util.Objects;

/**
 * A typed key of per-request endpoint data that producers write and scorers read (e.g. the prefix
 * match of an endpoint). The name is what producers declare in {@code produces()}.
 */
public record AttributeKey<T>(String name, Class<T> type) {
    public AttributeKey {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
    }

    public static <T> AttributeKey<T> of(String name, Class<T> type) {
        return new AttributeKey<>(name, type);
    }
}
