package dev.lodestar.simulator;

import java.util.List;

/**
 * The fixed chat template the simulator renders messages with before tokenizing (ChatML layout):
 * <pre>
 * &lt;|im_start|&gt;{role}\n{content}&lt;|im_end|&gt;\n   (per message)
 * &lt;|im_start|&gt;assistant\n                      (generation prompt)
 * </pre>
 * A conversation's next turn therefore starts with exactly the tokens of the previous turn's prompt
 * followed by the assistant's answer, so multi-turn chat reuses cached KV blocks as on vLLM.
 */
final class ChatTemplate {
    private ChatTemplate() {
    }

    static String render(List<ChatMessage> messages) {
        StringBuilder text = new StringBuilder();
        for (ChatMessage message : messages) {
            text.append(Tokenizer.IM_START).append(message.role()).append('\n')
                    .append(message.content()).append(Tokenizer.IM_END).append('\n');
        }
        return text.append(Tokenizer.IM_START).append("assistant\n").toString();
    }

    /** One chat message reduced to what the template renders. */
    record ChatMessage(String role, String content) {
    }
}
