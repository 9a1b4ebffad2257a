package dev.lodestar.epp.framework.plugin;

import java.util.Objects;

/** A plugin instance's type (e.g. {@code queue-scorer}) and its name in the configuration. */
public record TypedName(String type, String name) {
    public TypedName {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(name, "name");
    }

    @Override
    public String toString() {
        return name.equals(type) ? type : name + "/" + type;
    }
}
