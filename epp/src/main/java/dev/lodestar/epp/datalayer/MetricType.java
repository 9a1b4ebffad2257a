package dev.lodestar.epp.datalayer;

import java.util.Locale;
import java.util.Optional;

/**
 * A metric family's {@code # TYPE}. The OpenMetrics-only types are kept so such payloads parse; they mean
 * nothing special to the extractor, which reads sample values whatever the type.
 */
public enum MetricType {
    COUNTER("_total", "_created"),
    GAUGE,
    HISTOGRAM("_bucket", "_count", "_sum", "_created"),
    SUMMARY("_count", "_sum", "_created"),
    UNTYPED,
    GAUGEHISTOGRAM("_bucket", "_gcount", "_gsum"),
    INFO("_info"),
    STATESET,
    UNKNOWN;

    private final String[] suffixes;

    MetricType(String... suffixes) {
        this.suffixes = suffixes;
    }

    /** Whether a sample named {@code familyName + suffix} belongs to a family of this type. */
    boolean acceptsSuffix(String suffix) {
        for (String candidate : suffixes) {
            if (candidate.equals(suffix)) {
                return true;
            }
        }
        return false;
    }

    /** Parses the word after {@code # TYPE name}, case-insensitively. */
    static Optional<MetricType> fromWord(String word) {
        try {
            return Optional.of(valueOf(word.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    static final String[] ALL_SUFFIXES = {"_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info"};
}
