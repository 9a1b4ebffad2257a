package dev.lodestar.epp.framework.scheduling;

import dev.lodestar.epp.framework.datalayer.AttributeKey;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Data plugins share during one scheduling cycle (one request), keyed by typed keys. */
public final class CycleState {
    private final ConcurrentHashMap<String, Object> values = new ConcurrentHashMap<>();

    public <T> Optional<T> read(AttributeKey<T> key) {
        Object value = values.get(key.name());
        return value == null ? Optional.empty() : Optional.of(key.type().cast(value));
    }

    public <T> void write(AttributeKey<T> key, T value) {
        values.put(key.name(), value);
    }

    public void delete(AttributeKey<?> key) {
        values.remove(key.name());
    }
}
