package dev.lodestar.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MetricsTextTest {
    private static final String PAGE = """
            # TYPE x_seconds histogram
            x_seconds_bucket{le="1"} 3
            x_seconds_sum{profile="a"} 1.5
            x_seconds_sum{profile="b"} 2.5
            x_seconds_count 7
            x_seconds_count_extra 100
            go_memstats_heap_alloc_bytes 1.048576e+06
            """;

    @Test
    void sumsEverySeriesOfExactlyThatNameWhateverItsLabels() {
        assertThat(MetricsText.sum(PAGE, "x_seconds_sum")).isEqualTo(4.0);
        assertThat(MetricsText.sum(PAGE, "x_seconds_count")).isEqualTo(7.0);
        assertThat(MetricsText.sum(PAGE, "go_memstats_heap_alloc_bytes")).isEqualTo(1048576.0);
    }

    @Test
    void isNaNForASeriesThePageLacks() {
        assertThat(MetricsText.sum(PAGE, "x_seconds")).isNaN();
    }
}
