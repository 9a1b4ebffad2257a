package dev.lodestar.epp.discovery;

import dev.lodestar.epp.datastore.Datastore;
import dev.lodestar.epp.datastore.EndpointState;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StaticEndpointsTest {
    @Test
    void addressesBecomePodsWithRanks() {
        StaticEndpoints endpoints = StaticEndpoints.parse("10.0.0.1:8000, 10.0.0.1:8001,10.0.0.2:8000");

        assertThat(endpoints.endpoints()).containsExactly(
                new EndpointMetadata(new EndpointKey("default", "10.0.0.1-rank-0"), "10.0.0.1", "10.0.0.1", 8000,
                        "10.0.0.1:8000", Map.of()),
                new EndpointMetadata(new EndpointKey("default", "10.0.0.1-rank-1"), "10.0.0.1", "10.0.0.1", 8001,
                        "10.0.0.1:8001", Map.of()),
                new EndpointMetadata(new EndpointKey("default", "10.0.0.2-rank-0"), "10.0.0.2", "10.0.0.2", 8000,
                        "10.0.0.2:8000", Map.of()));
    }

    @Test
    void namesNamespacesAndIpv6() {
        StaticEndpoints endpoints = StaticEndpoints.parse(
                "vllm-a=10.0.0.1:8000,vllm-a=10.0.0.1:8001,inference/vllm-b=[fd00::b]:8000,[::1]:9000");

        assertThat(endpoints.endpoints()).extracting(EndpointMetadata::key).containsExactly(
                new EndpointKey("default", "vllm-a-rank-0"), new EndpointKey("default", "vllm-a-rank-1"),
                new EndpointKey("inference", "vllm-b-rank-0"), new EndpointKey("default", "::1-rank-0"));
        EndpointMetadata ipv6 = endpoints.endpoints().get(2);
        assertThat(ipv6.podName()).isEqualTo("vllm-b");
        assertThat(ipv6.address()).isEqualTo("fd00::b");
        assertThat(ipv6.metricsHost()).isEqualTo("[fd00::b]:8000");
        assertThat(ipv6.hostPort()).isEqualTo("[fd00::b]:8000");
    }

    @Test
    void startFillsThePoolAndSyncs() {
        Datastore datastore = new Datastore();
        try (StaticEndpoints endpoints = StaticEndpoints.parse("a=127.0.0.1:8000,b=127.0.0.2:8000")) {
            endpoints.start(datastore);
        }
        assertThat(datastore.synced()).isTrue();
        assertThat(datastore.endpoints()).extracting(EndpointState::metadata).extracting(EndpointMetadata::hostPort)
                .containsExactly("127.0.0.1:8000", "127.0.0.2:8000");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "10.0.0.1|entry 1 '10.0.0.1': missing ':<port>' (expected ip:port)",
            "10.0.0.1:8000,|entry 2: empty entry",
            "10.0.0.1:0|entry 1 '10.0.0.1:0': invalid port '0' (1-65535)",
            "10.0.0.1:70000|entry 1 '10.0.0.1:70000': invalid port '70000' (1-65535)",
            "10.0.0.1:http|entry 1 '10.0.0.1:http': invalid port 'http' (1-65535)",
            "10.0.0.256:80|entry 1 '10.0.0.256:80': '10.0.0.256' is not an IPv4 address (names are not resolved)",
            "010.0.0.1:80|entry 1 '010.0.0.1:80': '010.0.0.1' is not an IPv4 address (names are not resolved)",
            "vllm.example.com:80|entry 1 'vllm.example.com:80': 'vllm.example.com' is not an IPv4 address (names are not resolved)",
            "fd00::1:80|entry 1 'fd00::1:80': IPv6 addresses go in brackets, e.g. [fd00::1]:80",
            "[fd00::1:80|entry 1 '[fd00::1:80': missing ']' after the IPv6 address",
            "[fd00::1]80|entry 1 '[fd00::1]80': missing ':<port>' after [fd00::1]",
            "[fd00::zz]:80|entry 1 '[fd00::zz]:80': 'fd00::zz' is not an IPv6 address",
            "-a=10.0.0.1:80|entry 1 '-a=10.0.0.1:80': invalid name '-a' (letters, digits, '.', '_', '-'; starting and ending with a letter or digit)",
            "=10.0.0.1:80|entry 1 '=10.0.0.1:80': invalid name '' (letters, digits, '.', '_', '-'; starting and ending with a letter or digit)",
            "ns x/a=10.0.0.1:80|entry 1 'ns x/a=10.0.0.1:80': invalid namespace 'ns x' (letters, digits, '.', '_', '-'; starting and ending with a letter or digit)",
            "a=10.0.0.1:80,b=10.0.0.1:80|entry 2 'b=10.0.0.1:80': 10.0.0.1:80 is listed twice"})
    void badEntriesAreNamed(String spec, String problem) {
        assertThatThrownBy(() -> StaticEndpoints.parse(spec))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("static endpoints: " + problem);
    }

    @Test
    void nothingGiven() {
        assertThatThrownBy(() -> StaticEndpoints.parse(" "))
                .hasMessage("static endpoints: no endpoints given");
    }
}
