package dev.lodestar.gateway;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class HeaderBlockTest {

    @Test
    void namesAreLowercasedAndKeptInArrivalOrder() {
        HeaderBlock headers = HeaderBlock.create().add(":method", "POST").add("Content-Type", "application/json")
                .add("X-Trace", "a").add("x-trace", "b");

        assertThat(headers.entries()).containsExactly(Map.entry(":method", "POST"),
                Map.entry("content-type", "application/json"), Map.entry("x-trace", "a"), Map.entry("x-trace", "b"));
        assertThat(headers.first("X-TRACE")).contains("a");
        assertThat(headers.contains("CONTENT-TYPE")).isTrue();
        assertThat(headers.first("absent")).isEmpty();
    }

    @Test
    void setReplacesEveryValueAndRemoveDropsTheHeader() {
        HeaderBlock headers = HeaderBlock.create().add("a", "1").add("a", "2").add("b", "3");

        headers.set("A", "9");
        assertThat(headers.entries()).containsExactly(Map.entry("a", "9"), Map.entry("b", "3"));
        headers.set("c", "4");
        assertThat(headers.entries()).containsExactly(Map.entry("a", "9"), Map.entry("b", "3"), Map.entry("c", "4"));
        headers.remove("B");
        assertThat(headers.contains("b")).isFalse();
        assertThat(headers.entries()).containsExactly(Map.entry("a", "9"), Map.entry("c", "4"));
    }

    @Test
    void copyIsIndependent() {
        HeaderBlock original = HeaderBlock.create().add("a", "1");
        HeaderBlock copy = original.copy();

        copy.add("a", "2");
        copy.set("b", "3");

        assertThat(original.entries()).containsExactly(Map.entry("a", "1"));
        assertThat(copy.entries()).containsExactly(Map.entry("a", "1"), Map.entry("a", "2"), Map.entry("b", "3"));
    }

    @Test
    void hopByHopHeadersAreTheConnectionLevelOnes() {
        assertThat(HeaderBlock.HOP_BY_HOP).contains("connection", "transfer-encoding", "keep-alive", "upgrade", "te")
                .doesNotContain("content-type", "content-length", "x-gateway-destination-endpoint");
    }
}
