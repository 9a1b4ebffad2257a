package dev.lodestar.kvconnector.sidecar;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SidecarConfigTest {
    @Test
    void plainIsUpstreamsDefaultsWithoutTls() {
        SidecarConfig config = SidecarConfig.plain(0, 8200);
        assertThat(config.secureProxy()).isFalse();
        assertThat(config.kvConnector()).isEqualTo(SidecarConfig.KvConnector.NIXLV2);
        assertThat(config.prefillRetryBackoff()).isEqualTo(Duration.ofMillis(200));
        assertThat(config.ssrfProtection()).isFalse();
        assertThat(config.withInferencePool(SidecarConfig.PoolRef.parse("ns/p")).ssrfProtection()).isTrue();
    }

    @Test
    void stagesAreParsedFromCommaListsAndRepeats() {
        assertThat(SidecarConfig.Stage.parseList("--enable-tls", List.of("prefiller, decoder", "prefiller")))
                .isEqualTo(Set.of(SidecarConfig.Stage.PREFILLER, SidecarConfig.Stage.DECODER));
        assertThatThrownBy(() -> SidecarConfig.Stage.parseList("--enable-tls", List.of("encoder")))
                .hasMessageContaining("the encoder stage is not supported");
    }

    @Test
    void poolRefs() {
        assertThat(SidecarConfig.PoolRef.parse("p")).isEqualTo(new SidecarConfig.PoolRef("default", "p"));
        assertThat(SidecarConfig.PoolRef.parse("ns/p").toString()).isEqualTo("ns/p");
        assertThatThrownBy(() -> SidecarConfig.PoolRef.parse("ns/")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void retriesNeedAPositiveBackoff() {
        assertThatThrownBy(() -> SidecarConfig.plain(0, 1).withPrefillRetries(1, Duration.ZERO))
                .hasMessageStartingWith("--prefill-retry-backoff must be positive");
        assertThat(SidecarConfig.plain(0, 1).withPrefillRetries(0, Duration.ZERO).prefillMaxRetries()).isZero();
    }
}
