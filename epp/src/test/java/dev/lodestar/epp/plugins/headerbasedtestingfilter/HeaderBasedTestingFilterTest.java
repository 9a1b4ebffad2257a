package dev.lodestar.epp.plugins.headerbasedtestingfilter;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.plugins.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HeaderBasedTestingFilterTest {
    private final HeaderBasedTestingFilter filter = new HeaderBasedTestingFilter("test");
    private final Endpoint a = Fixtures.endpoint("10.0.0.7", 8000);
    private final Endpoint b = Fixtures.endpoint("10.0.0.8", 8000);
    private final Endpoint bRank1 = Fixtures.endpoint("10.0.0.8", 8001);
    private final Endpoint v6 = Fixtures.endpoint("fd00::1", 3000);
    private final List<Endpoint> all = List.of(a, b, bRank1, v6);

    private List<Endpoint> select(String header) {
        return filter.filter(new CycleState(), Fixtures.withHeaders(Map.of("test-epp-endpoint-selection", header)), all);
    }

    @Test
    void keepsTheListedEndpointsInTheHeadersOrder() {
        assertThat(select("10.0.0.8:8000, 10.0.0.7")).containsExactly(b, a);
        assertThat(select(" 10.0.0.7 ,,10.0.0.99")).containsExactly(a);
    }

    @Test
    void ipAndPortMustMatchExactly() {
        assertThat(select("10.0.0.8:8001")).containsExactly(bRank1);
        assertThat(select("10.0.0.7:9999")).isEmpty();
    }

    @Test
    void aBareIpSelectsOneEndpointAndEachIpAppearsOnce() {
        // Upstream maps an IP to the last candidate with that IP, and de-duplicates by IP.
        assertThat(select("10.0.0.8")).containsExactly(bRank1);
        assertThat(select("10.0.0.8:8000,10.0.0.8:8001,10.0.0.8")).containsExactly(b);
    }

    @Test
    void ipv6WithOrWithoutBrackets() {
        assertThat(select("[fd00::1]:3000")).containsExactly(v6);
        assertThat(select("fd00::1")).containsExactly(v6);
        assertThat(select("[fd00::1]")).containsExactly(v6);
        assertThat(select("[fd00::1]:3001")).isEmpty();
    }

    @Test
    void aMissingOrBlankHeaderKeepsNothing() {
        assertThat(filter.filter(new CycleState(), Fixtures.request("r"), all)).isEmpty();
        assertThat(select("  ")).isEmpty();
    }

    @Test
    void splitsHostAndPortLikeGo() {
        assertThat(HeaderBasedTestingFilter.HostPort.split("10.0.0.1:80"))
                .contains(new HeaderBasedTestingFilter.HostPort("10.0.0.1", "80"));
        assertThat(HeaderBasedTestingFilter.HostPort.split("[::1]:80"))
                .contains(new HeaderBasedTestingFilter.HostPort("::1", "80"));
        assertThat(HeaderBasedTestingFilter.HostPort.split("10.0.0.1:"))
                .contains(new HeaderBasedTestingFilter.HostPort("10.0.0.1", ""));
        assertThat(HeaderBasedTestingFilter.HostPort.split("10.0.0.1")).isEmpty();
        assertThat(HeaderBasedTestingFilter.HostPort.split("::1")).isEmpty();
        assertThat(HeaderBasedTestingFilter.HostPort.split("[::1]")).isEmpty();
        assertThat(HeaderBasedTestingFilter.HostPort.split("[::1]x:80")).isEmpty();
    }

    @Test
    void factory() {
        assertThat(HeaderBasedTestingFilter.FACTORY.create("t", Fixtures.noParams(), Fixtures.HANDLE).typedName())
                .isEqualTo(new TypedName("header-based-testing-filter", "t"));
        assertThatThrownBy(() -> Fixtures.create(HeaderBasedTestingFilter.FACTORY, "t", "{\"header\":\"x\"}"))
                .isInstanceOf(InvalidConfigException.class);
    }
}
