package dev.lodestar.epp.plugins.disagg;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lodestar.epp.framework.scheduling.ApiType;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.plugins.Fixtures;
import dev.lodestar.epp.plugins.PluginTestFixtures;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AlwaysDisaggMultimodalDeciderTest {
    private final Decider decider = (Decider) Fixtures.create(AlwaysDisaggMultimodalDecider.FACTORY, "mm", "{}");

    private static LlmRequest chatWithBlock(String type) {
        ObjectNode payload = PluginTestFixtures.JSON.createObjectNode().put("model", "m");
        ArrayNode content = payload.putArray("messages").addObject().put("role", "user").putArray("content");
        content.addObject().put("type", "text").put("text", "what is this?");
        content.addObject().put("type", type);
        return PluginTestFixtures.request("r", "m", ApiType.CHAT_COMPLETIONS, payload, Map.of());
    }

    @Test
    void chatsWithAnImageVideoOrAudioBlockRunTheEncodeStage() {
        for (String type : new String[] {"image_url", "video_url", "input_audio", "audio_url"}) {
            assertThat(decider.disaggregate(chatWithBlock(type), Optional.empty())).as(type).isTrue();
        }
    }

    @Test
    void textOnlyRequestsDoNot() {
        assertThat(decider.disaggregate(chatWithBlock("text"), Optional.empty())).isFalse();
        assertThat(decider.disaggregate(PluginTestFixtures.chat("r", "m", "image_url"), Optional.empty())).isFalse();
        assertThat(decider.disaggregate(PluginTestFixtures.completion("r", "m", "image_url"), Optional.empty()))
                .isFalse();
        assertThat(decider.disaggregate(Fixtures.request("r"), Optional.empty())).isFalse();
    }

    @Test
    void itTakesNoParameters() {
        assertThat(decider.typedName().type()).isEqualTo("always-disagg-multimodal-decider");
        assertThatThrownBy(() -> Fixtures.create(AlwaysDisaggMultimodalDecider.FACTORY, "mm", "{\"x\": 1}"))
                .hasMessageContaining("unknown parameter 'x'");
    }
}
