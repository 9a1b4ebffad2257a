package dev.lodestar.epp.metrics;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Writes a registry in the Prometheus text format 0.0.4, the format controller-runtime's metrics server
 * (upstream's) answers with; no {@code _created} samples, no exemplars.
 */
public final class MetricsExposition {
    /** {@code text/plain; version=0.0.4; charset=utf-8}. */
    public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private static final PrometheusTextFormatWriter WRITER = PrometheusTextFormatWriter.create();

    private MetricsExposition() {
    }

    public static void write(PrometheusRegistry registry, OutputStream out) throws IOException {
        WRITER.write(out, registry.scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
    }

    /** The whole scrape as a string (tests, debugging). */
    public static String text(PrometheusRegistry registry) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            write(registry, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
