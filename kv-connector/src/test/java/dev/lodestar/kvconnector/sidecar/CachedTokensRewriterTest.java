package dev.lodestar.kvconnector.sidecar;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class CachedTokensRewriterTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String chunk(CachedTokensRewriter rewriter, String text) {
        byte[] in = bytes(text);
        return new String(rewriter.rewriteStreamChunk(in, in.length), StandardCharsets.UTF_8);
    }

    @Test
    void theCachedCountOfAPrefillResponseDefaultsToZero() throws Exception {
        assertThat(CachedTokensRewriter.cachedTokens(MAPPER.readTree(
                "{\"usage\":{\"prompt_tokens_details\":{\"cached_tokens\":16}}}"))).isEqualTo(16);
        assertThat(CachedTokensRewriter.cachedTokens(MAPPER.readTree(
                "{\"usage\":{\"prompt_tokens_details\":null}}"))).isZero();
        assertThat(CachedTokensRewriter.cachedTokens(MAPPER.readTree("{}"))).isZero();
    }

    @Test
    void aJsonBodyGetsTheCount() {
        CachedTokensRewriter rewriter = new CachedTokensRewriter(7);
        assertThat(new String(rewriter.rewriteBody(bytes(
                "{\"usage\":{\"prompt_tokens\":9,\"prompt_tokens_details\":{\"cached_tokens\":9}}}")), StandardCharsets.UTF_8))
                .isEqualTo("{\"usage\":{\"prompt_tokens\":9,\"prompt_tokens_details\":{\"cached_tokens\":7}}}");
        assertThat(new String(rewriter.rewriteBody(bytes("{\"usage\":{\"prompt_tokens\":9}}")), StandardCharsets.UTF_8))
                .isEqualTo("{\"usage\":{\"prompt_tokens\":9,\"prompt_tokens_details\":{\"cached_tokens\":7}}}");
    }

    @Test
    void bodiesWithoutUsageOrNotJsonAreLeftByteForByte() {
        CachedTokensRewriter rewriter = new CachedTokensRewriter(7);
        byte[] noUsage = bytes("{ \"id\" : 1 }");
        assertThat(rewriter.rewriteBody(noUsage)).isSameAs(noUsage);
        byte[] nullUsage = bytes("{\"usage\":null}");
        assertThat(rewriter.rewriteBody(nullUsage)).isSameAs(nullUsage);
        byte[] text = bytes("plain text");
        assertThat(rewriter.rewriteBody(text)).isSameAs(text);
        byte[] same = bytes("{\"usage\":{\"prompt_tokens_details\":{\"cached_tokens\":7}}}");
        assertThat(rewriter.rewriteBody(same)).isSameAs(same);
    }

    @Test
    void completeLinesOfAStreamAreReturnedAtOnceAndPartialOnesHeld() {
        CachedTokensRewriter rewriter = new CachedTokensRewriter(3);
        assertThat(chunk(rewriter, "data: {\"choices\":[]}\n\n")).isEqualTo("data: {\"choices\":[]}\n\n");
        assertThat(chunk(rewriter, "data: {\"usage\":{\"prompt_")).isEmpty();
        assertThat(chunk(rewriter, "tokens\":5}}\r\n\r\ndata: [DONE]"))
                .isEqualTo("data: {\"usage\":{\"prompt_tokens\":5,\"prompt_tokens_details\":{\"cached_tokens\":3}}}\r\n\r\n");
        assertThat(new String(rewriter.finish(), StandardCharsets.UTF_8)).isEqualTo("data: [DONE]");
        assertThat(rewriter.finish()).isEmpty();
    }

    @Test
    void otherLinesOfAStreamPassUnchanged() {
        CachedTokensRewriter rewriter = new CachedTokensRewriter(3);
        String lines = "event: message\nid: 4\n: comment\ndata:{\"usage\":{}}\ndata: not json\n\n";
        assertThat(chunk(rewriter, lines)).isEqualTo(lines);
    }

    @Test
    void aFinalLineWithoutBreakIsRewrittenOnFinish() {
        CachedTokensRewriter rewriter = new CachedTokensRewriter(3);
        assertThat(chunk(rewriter, "data: {\"usage\":{}}")).isEmpty();
        assertThat(new String(rewriter.finish(), StandardCharsets.UTF_8))
                .isEqualTo("data: {\"usage\":{\"prompt_tokens_details\":{\"cached_tokens\":3}}}");
    }
}
