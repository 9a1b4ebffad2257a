package dev.lodestar.epp.datalayer;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A metric family: its name as in {@code # TYPE}/{@code # HELP} (or the sample name when neither was given),
 * type, help text and samples in exposition order.
 */
public record MetricFamily(String name, MetricType type, Optional<String> help, List<Sample> samples) {
    public MetricFamily {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(help, "help");
        samples = List.copyOf(samples);
    }
}
