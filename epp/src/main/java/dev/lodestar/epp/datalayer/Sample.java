package dev.lodestar.epp.datalayer;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * One line of the exposition: a series name (with its suffix, e.g. {@code foo_bucket}), labels, a value and
 * the optional timestamp in milliseconds.
 */
public record Sample(String name, Labels labels, double value, OptionalLong timestampMillis) {
    public Sample {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(timestampMillis, "timestampMillis");
    }

    public static Sample of(String name, Labels labels, double value) {
        return new Sample(name, labels, value, OptionalLong.empty());
    }

    @Override
    public String toString() {
        return name + labels + " " + value + (timestampMillis.isPresent() ? " " + timestampMillis.getAsLong() : "");
    }
}
