package dev.lodestar.kvconnector.sidecar;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PrefillTargetsTest {
    @Test
    void noHeaderOrABlankOneMeansNoPrefill() {
        assertThat(PrefillTargets.choose(List.of(), false, n -> 0)).isEmpty();
        assertThat(PrefillTargets.choose(List.of("  "), false, n -> 0)).isEmpty();
        assertThat(PrefillTargets.choose(List.of(",10.0.0.1:8000"), false, n -> 0)).isEmpty();
    }

    @Test
    void aSingleValueIsACommaListOfWhichTheFirstIsTaken() {
        assertThat(PrefillTargets.choose(List.of(" 10.0.0.1:8000 , 10.0.0.2:8000"), false, n -> 1))
                .hasValue("10.0.0.1:8000");
    }

    @Test
    void repeatedValuesAreNotSplit() {
        assertThat(PrefillTargets.choose(List.of("10.0.0.1:8000", "10.0.0.2:8000,10.0.0.3:8000"), true, n -> 1))
                .hasValue("10.0.0.2:8000,10.0.0.3:8000");
    }

    @Test
    void samplingAsksTheSamplerForAnIndexOfTheList() {
        int[] bound = {0};
        assertThat(PrefillTargets.choose(List.of("a:1,b:2,c:3"), true, n -> {
            bound[0] = n;
            return 2;
        })).hasValue("c:3");
        assertThat(bound[0]).isEqualTo(3);
    }

    @Test
    void theLegacyHttpPrefixIsDropped() {
        assertThat(PrefillTargets.choose(List.of("http://10.0.0.1:8000"), false, n -> 0)).hasValue("10.0.0.1:8000");
    }

    @Test
    void hostOfHostPort() {
        assertThat(PrefillTargets.host("10.0.0.1:8000")).isEqualTo("10.0.0.1");
        assertThat(PrefillTargets.host("pod-a:8000")).isEqualTo("pod-a");
        assertThat(PrefillTargets.host("[fd00::1]:8000")).isEqualTo("fd00::1");
        assertThat(PrefillTargets.host("10.0.0.1")).isEqualTo("10.0.0.1");
        assertThat(PrefillTargets.host("fd00::1")).isEqualTo("fd00::1");
    }
}
