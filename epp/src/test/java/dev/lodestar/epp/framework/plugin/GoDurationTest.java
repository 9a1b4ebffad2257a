package dev.lodestar.epp.framework.plugin;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GoDurationTest {
    @Test
    void parsesGoDurations() {
        assertThat(GoDuration.parse("200ms")).isEqualTo(Duration.ofMillis(200));
        assertThat(GoDuration.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
        assertThat(GoDuration.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(GoDuration.parse("2m3.5s")).isEqualTo(Duration.ofMillis(123_500));
        assertThat(GoDuration.parse("300us")).isEqualTo(Duration.ofNanos(300_000));
        assertThat(GoDuration.parse("300\u00b5s")).isEqualTo(Duration.ofNanos(300_000));
        assertThat(GoDuration.parse("7ns")).isEqualTo(Duration.ofNanos(7));
        assertThat(GoDuration.parse(".5s")).isEqualTo(Duration.ofMillis(500));
        assertThat(GoDuration.parse("1.s")).isEqualTo(Duration.ofSeconds(1));
        assertThat(GoDuration.parse("-2s")).isEqualTo(Duration.ofSeconds(-2));
        assertThat(GoDuration.parse("+2s")).isEqualTo(Duration.ofSeconds(2));
        assertThat(GoDuration.parse("0")).isEqualTo(Duration.ZERO);
        assertThat(GoDuration.parse("1.0000000001s")).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void rejectsWhatGoRejects() {
        for (String invalid : new String[] {"", "200", "ms", "1d", "1.5", "-", ".s", "1 s", "1s2"}) {
            assertThatThrownBy(() -> GoDuration.parse(invalid)).as(invalid).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> GoDuration.parse("200")).hasMessageContaining("missing unit");
        assertThatThrownBy(() -> GoDuration.parse("1d")).hasMessageContaining("unknown unit \"d\"");
        assertThatThrownBy(() -> GoDuration.parse("9999999999h")).hasMessageContaining("out of range");
    }
}
