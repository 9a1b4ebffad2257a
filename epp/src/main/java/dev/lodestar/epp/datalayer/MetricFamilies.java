package dev.lodestar.epp.datalayer;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** One parsed scrape: metric families by name, and samples by series name (e.g. {@code foo_bucket}). */
public final class MetricFamilies {
    private final Map<String, MetricFamily> byFamilyName;
    private final Map<String, List<Sample>> bySampleName;

    MetricFamilies(Map<String, MetricFamily> byFamilyName, Map<String, List<Sample>> bySampleName) {
        this.byFamilyName = Collections.unmodifiableMap(byFamilyName);
        this.bySampleName = Collections.unmodifiableMap(bySampleName);
    }

    public Optional<MetricFamily> family(String name) {
        return Optional.ofNullable(byFamilyName.get(name));
    }

    /** Families in exposition order. */
    public Collection<MetricFamily> families() {
        return byFamilyName.values();
    }

    /** Samples whose series name is {@code sampleName}, in exposition order; empty when there are none. */
    public List<Sample> samples(String sampleName) {
        return bySampleName.getOrDefault(sampleName, List.of());
    }

    public int sampleCount() {
        int count = 0;
        for (List<Sample> samples : bySampleName.values()) {
            count += samples.size();
        }
        return count;
    }
}
