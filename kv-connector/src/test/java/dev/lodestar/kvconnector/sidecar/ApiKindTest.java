package dev.lodestar.kvconnector.sidecar;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ApiKindTest {
    @Test
    void theDisaggregatedRoutesAreUpstreams() {
        assertThat(ApiKind.BY_PATH).containsOnlyKeys("/v1/chat/completions", "/v1/completions", "/v1/messages",
                "/v1/responses", "/inference/v1/generate");
        assertThat(ApiKind.ofPath("/v1/messages")).hasValue(ApiKind.CHAT_COMPLETIONS);
        assertThat(ApiKind.ofPath("/v1/embeddings")).isEmpty();
    }

    @Test
    void tokenLimitsPerApi() {
        assertThat(ApiKind.CHAT_COMPLETIONS.tokenLimitFields())
                .containsExactly("max_tokens", "max_completion_tokens", "min_tokens");
        assertThat(ApiKind.RESPONSES.tokenLimitFields()).containsExactly("max_output_tokens");
        assertThat(ApiKind.GENERATE.tokenLimitFields()).containsExactly("max_tokens", "min_tokens");
        assertThat(ApiKind.GENERATE.limitsInSamplingParams()).isTrue();
    }
}
