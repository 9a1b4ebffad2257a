package dev.lodestar.simulator;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class TextGeneratorTest {
    private final Tokenizer tokenizer = Tokenizer.create();
    private final TextGenerator echo = new TextGenerator(SimulatorConfig.Mode.ECHO, 0, tokenizer);
    private final TextGenerator random = new TextGenerator(SimulatorConfig.Mode.RANDOM, 42, tokenizer);
    private final int[] prompt = tokenizer.encode("Tell me about routing.");

    @Test
    void echoReturnsTheSourceWhenItFits() {
        TextGenerator.Generated generated = echo.generate("Tell me about routing.", prompt, 100, true, false);
        assertThat(generated.text()).isEqualTo("Tell me about routing.");
        assertThat(generated.finishReason()).isEqualTo(FinishReason.STOP);
    }

    @Test
    void echoIsCutAtTheLimit() {
        TextGenerator.Generated generated = echo.generate("one two three four five", prompt, 3, true, false);
        assertThat(generated.text()).isEqualTo("one two three ");
        assertThat(generated.pieces()).hasSize(3);
        assertThat(generated.finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void echoWithIgnoreEosRepeatsUpToExactlyTheLimit() {
        TextGenerator.Generated generated = echo.generate("one two", prompt, 5, true, true);
        assertThat(generated.pieces()).containsExactly("one ", "two", "one ", "two", "one ");
        assertThat(generated.finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void anEmptyEchoStillEndsWithOneToken() {
        TextGenerator.Generated generated = echo.generate("", prompt, 10, true, false);
        assertThat(generated.pieces()).containsExactly("");
        assertThat(generated.finishReason()).isEqualTo(FinishReason.STOP);
    }

    @Test
    void randomTextIsDeterministicPerSeedAndPrompt() {
        TextGenerator.Generated first = random.generate("", prompt, 50, true, false);
        TextGenerator.Generated again = random.generate("", prompt, 50, true, false);
        TextGenerator.Generated otherSeed = new TextGenerator(SimulatorConfig.Mode.RANDOM, 43, tokenizer)
                .generate("", prompt, 50, true, true);
        TextGenerator.Generated sameSeed = random.generate("", prompt, 50, true, true);
        assertThat(again.pieces()).isEqualTo(first.pieces());
        assertThat(otherSeed.text()).isNotEqualTo(sameSeed.text());
    }

    @Test
    void randomLengthsRespectTheLimitAndIgnoreEos() {
        assertThat(random.generate("", prompt, 37, true, true).pieces()).hasSize(37);
        Set<Integer> lengths = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            int[] distinctPrompt = tokenizer.encode("prompt number " + i);
            TextGenerator.Generated generated = random.generate("", distinctPrompt, 20, true, false);
            int length = generated.pieces().size();
            assertThat(length).isBetween(1, 20);
            assertThat(generated.finishReason()).isEqualTo(length == 20 ? FinishReason.LENGTH : FinishReason.STOP);
            lengths.add(length);
        }
        assertThat(lengths).as("lengths vary").hasSizeGreaterThan(5).contains(20);
    }

    @Test
    void randomWithoutMaxTokensStaysWithinTheContext() {
        for (int i = 0; i < 100; i++) {
            int[] distinctPrompt = tokenizer.encode("question " + i);
            assertThat(random.generate("", distinctPrompt, 3, false, false).pieces()).hasSizeBetween(1, 3);
        }
    }
}
