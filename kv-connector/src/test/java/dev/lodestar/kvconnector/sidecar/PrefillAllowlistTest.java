package dev.lodestar.kvconnector.sidecar;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class PrefillAllowlistTest {
    @Test
    void aStaticSetAllowsItsHostsOnAnyPort() {
        PrefillAllowlist allowlist = PrefillAllowlist.of(Set.of("10.0.0.1", "prefill-0", "fd00::1"));
        assertThat(allowlist.allows("10.0.0.1:8000")).isTrue();
        assertThat(allowlist.allows("10.0.0.1:9999")).isTrue();
        assertThat(allowlist.allows("prefill-0:8000")).isTrue();
        assertThat(allowlist.allows("[fd00::1]:8000")).isTrue();
        assertThat(allowlist.allows("10.0.0.2:8000")).isFalse();
        assertThat(allowlist.allows("169.254.169.254:80")).isFalse();
    }

    @Test
    void allowAllAllowsAnything() {
        assertThat(PrefillAllowlist.allowAll().allows("169.254.169.254:80")).isTrue();
    }
}
