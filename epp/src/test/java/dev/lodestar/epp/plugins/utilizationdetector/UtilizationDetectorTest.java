package dev.lodestar.epp.plugins.utilizationdetector;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.plugins.Fixtures;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class UtilizationDetectorTest {
    private static final Instant NOW = Instant.parse("2026-08-01T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    private static UtilizationDetector detector(String parameters) {
        return new UtilizationDetector("sd",
                PluginParameters.decode("sd", Fixtures.params(parameters), UtilizationDetector.Params.class), CLOCK);
    }

    /** An endpoint scraped {@code ageMillis} ago. */
    private static Endpoint scraped(String ip, int queue, double kv, long ageMillis) {
        return Fixtures.endpoint(ip, EndpointMetrics.builder().waitingQueueSize(queue).kvCacheUsagePercent(kv)
                .updateTime(NOW.minusMillis(ageMillis)).build());
    }

    @Test
    void endpointSaturationIsTheMostConstrainedResource() {
        UtilizationDetector detector = detector("{}"); // queue 5, kv 0.8

        assertThat(detector.saturation(List.of(scraped("10.0.0.1", 2, 0.4, 10)))).isCloseTo(0.5, within(1e-12));
        assertThat(detector.saturation(List.of(scraped("10.0.0.1", 4, 0.4, 10)))).isCloseTo(0.8, within(1e-12));
        assertThat(detector.saturation(List.of(scraped("10.0.0.1", 10, 0.1, 10)))).isCloseTo(2.0, within(1e-12));
    }

    @Test
    void poolSaturationIsTheAverageWithStaleAndUnscrapedEndpointsFull() {
        UtilizationDetector detector = detector("{}");
        Endpoint half = scraped("10.0.0.1", 2, 0.4, 0);          // 0.5
        Endpoint idle = scraped("10.0.0.2", 0, 0.0, 200);        // 0.0, exactly at the staleness limit: fresh
        Endpoint stale = scraped("10.0.0.3", 0, 0.0, 201);       // 1.0
        Endpoint neverScraped = Fixtures.endpoint("10.0.0.4", EndpointMetrics.EMPTY); // 1.0

        assertThat(detector.saturation(List.of(half, idle, stale, neverScraped))).isCloseTo(2.5 / 4, within(1e-12));
        assertThat(detector.saturation(List.of())).isEqualTo(1.0);
    }

    @Test
    void filterKeepsFreshEndpointsBelowTheRelaxedLimits() {
        UtilizationDetector detector = detector("{\"headroom\":0.2}"); // queue < 6, kv < 0.96
        Endpoint ok = scraped("10.0.0.1", 5, 0.95, 0);
        Endpoint queueFull = scraped("10.0.0.2", 6, 0.1, 0);
        Endpoint kvFull = scraped("10.0.0.3", 0, 0.96, 0);
        Endpoint stale = scraped("10.0.0.4", 0, 0.0, 1000);

        assertThat(detector.filter(new CycleState(), Fixtures.request("r"), List.of(ok, queueFull, kvFull, stale)))
                .containsExactly(ok);
    }

    @Test
    void filterFailsOpenWhenNothingPasses() {
        UtilizationDetector detector = detector("{}");
        List<Endpoint> overloaded = List.of(scraped("10.0.0.1", 5, 0.1, 0), scraped("10.0.0.2", 0, 0.9, 0),
                scraped("10.0.0.3", 0, 0, 5000));

        assertThat(detector.filter(new CycleState(), Fixtures.request("r"), overloaded)).isEqualTo(overloaded);
    }

    @Test
    void customThresholds() {
        UtilizationDetector detector = detector("{\"queueDepthThreshold\":10,\"kvCacheUtilThreshold\":0.5,"
                + "\"metricsStalenessThreshold\":\"2s\"}");

        assertThat(detector.saturation(List.of(scraped("10.0.0.1", 3, 0.4, 1500)))).isCloseTo(0.8, within(1e-12));
        assertThat(detector.saturation(List.of(scraped("10.0.0.1", 3, 0.4, 2500)))).isEqualTo(1.0);
    }

    @Test
    void parameters() {
        UtilizationDetector.Params defaults = new UtilizationDetector.Params(null, null, null, null);
        assertThat(defaults).isEqualTo(new UtilizationDetector.Params(5, 0.8, "200ms", 0.0));
        assertThat(defaults.metricsStaleness()).isEqualTo(Duration.ofMillis(200));
        assertThat(UtilizationDetector.FACTORY.create("sd", Fixtures.noParams(), Fixtures.HANDLE).typedName())
                .isEqualTo(new TypedName("utilization-detector", "sd"));

        assertThatThrownBy(() -> Fixtures.create(UtilizationDetector.FACTORY, "sd", "{\"queueDepthThreshold\":0,"
                + "\"kvCacheUtilThreshold\":1.5,\"metricsStalenessThreshold\":\"0s\",\"headroom\":-0.1}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("queueDepthThreshold must be strictly positive, got 0")
                .hasMessageContaining("kvCacheUtilThreshold must be in (0.0, 1.0], got 1.5")
                .hasMessageContaining("metricsStalenessThreshold must be strictly positive, got 0s")
                .hasMessageContaining("headroom must be a non-negative value, got -0.1");
        assertThatThrownBy(() -> Fixtures.create(UtilizationDetector.FACTORY, "sd", "{\"kvCacheUtilThreshold\":0}"))
                .isInstanceOf(InvalidConfigException.class);
        assertThatThrownBy(() -> Fixtures.create(UtilizationDetector.FACTORY, "sd",
                "{\"metricsStalenessThreshold\":\"200\"}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("missing unit");
        assertThatThrownBy(() -> Fixtures.create(UtilizationDetector.FACTORY, "sd", "{\"queueThreshold\":5}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'queueThreshold'");
    }
}
