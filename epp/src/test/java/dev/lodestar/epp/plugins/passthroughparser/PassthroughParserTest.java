package dev.lodestar.epp.plugins.passthroughparser;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.LlmRequestBody;
import dev.lodestar.epp.plugins.Fixtures;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PassthroughParserTest {
    private final PassthroughParser parser = new PassthroughParser("passthrough");

    @Test
    void anyBodyIsKeptAsOpaqueBytes() {
        for (String text : new String[] {"{\"model\":\"llama\",\"prompt\":\"hi\"}", "not json at all", "", "\u0000\u00ff"}) {
            byte[] raw = text.getBytes(StandardCharsets.UTF_8);

            LlmRequestBody body = parser.parseRequest(raw, Map.of(":path", "/v1/chat/completions"));

            assertThat(body.raw()).isEqualTo(raw);
            assertThat(body.payload()).isEmpty();
            assertThat(body.apiType()).isEmpty();
            assertThat(body.stream()).isFalse();
            assertThat(body.promptText()).isEmpty();
            assertThat(body.cacheSalt()).isEmpty();
        }
    }

    @Test
    void aStreamFlagInTheBodyIsNotRead() {
        byte[] raw = "{\"model\":\"m\",\"prompt\":\"p\",\"stream\":true}".getBytes(StandardCharsets.UTF_8);

        assertThat(parser.parseRequest(raw, Map.of()).stream()).isFalse();
    }

    @Test
    void itNeverRewritesTheModelNorReadsUsage() {
        assertThat(parser.rewritesModel()).isFalse();
        assertThat(parser.parseResponse("{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}"
                .getBytes(StandardCharsets.UTF_8), false)).isEmpty();
        assertThat(parser.parseResponse(("data: {\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n"
                + "data: [DONE]\n\n").getBytes(StandardCharsets.UTF_8), true)).isEmpty();
    }

    @Test
    void theFactoryNamesThePluginAndTakesNoParameters() {
        assertThat(PassthroughParser.TYPE).isEqualTo("passthrough-parser");
        assertThat(PassthroughParser.FACTORY.create("raw", Fixtures.noParams(), Fixtures.HANDLE).typedName())
                .isEqualTo(new TypedName("passthrough-parser", "raw"));
        assertThat(Fixtures.create(PassthroughParser.FACTORY, "raw", "{}")).isInstanceOf(PassthroughParser.class);
        assertThatThrownBy(() -> Fixtures.create(PassthroughParser.FACTORY, "raw", "{\"mode\":\"x\"}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("plugin 'raw'").hasMessageContaining("unknown parameter 'mode'");
    }

    @Test
    void itIsABuiltInPlugin() {
        assertThat(PluginRegistry.builtIn().factory("passthrough-parser")).containsSame(PassthroughParser.FACTORY);
    }
}
