package dev.lodestar.kvconnector.sidecar;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class SidecarErrorsTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void jsonErrorsHaveVllmsShape() throws Exception {
        SidecarErrors.Reply reply = SidecarErrors.badGateway("dial tcp: refused");
        assertThat(reply.status()).isEqualTo(502);
        assertThat(reply.contentType()).isEqualTo("application/json");
        assertThat(MAPPER.readTree(reply.body())).isEqualTo(MAPPER.readTree(
                "{\"object\":\"error\",\"message\":\"dial tcp: refused\",\"type\":\"BadGateway\",\"param\":\"\",\"code\":502}"));
        assertThat(MAPPER.readTree(SidecarErrors.badRequest("x").body()).get("type").asText())
                .isEqualTo("BadRequestError");
        assertThat(MAPPER.readTree(SidecarErrors.decoderNotReady().body()).get("code").intValue()).isEqualTo(503);
    }

    @Test
    void theSsrfRefusalIsPlainText() {
        SidecarErrors.Reply reply = SidecarErrors.ssrfForbidden();
        assertThat(reply.status()).isEqualTo(403);
        assertThat(new String(reply.body(), StandardCharsets.UTF_8))
                .isEqualTo("Forbidden: prefill target not allowed by SSRF protection\n");
    }
}
