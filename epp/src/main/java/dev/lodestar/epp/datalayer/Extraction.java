package dev.lodestar.epp.datalayer;

import dev.lodestar.epp.framework.datalayer.EndpointMetrics;

import java.util.List;
import java.util.Optional;

/**
 * What one scrape yielded: new metrics when at least one field was found (fields not found keep their
 * previous value), and a message per field that could not be read.
 */
public record Extraction(Optional<EndpointMetrics> metrics, List<String> errors) {
    public Extraction {
        errors = List.copyOf(errors);
    }
}
