package dev.lodestar.simulator;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class TokenizerTest {
    private final Tokenizer tokenizer = Tokenizer.create();

    @Test
    void splitsWordsAndPunctuationKeepingTheWhitespaceAfterThem() {
        assertThat(tokenizer.pieces("Hello world, how are you?"))
                .containsExactly("Hello ", "world", ", ", "how ", "are ", "you", "?");
    }

    @Test
    void longWordsAreSplitIntoChunksOfSixCharacters() {
        assertThat(tokenizer.pieces("internationalization"))
                .containsExactly("intern", "ationa", "lizati", "on");
    }

    @Test
    void chatMarkersAreSingleTokens() {
        assertThat(tokenizer.pieces("<|im_start|>user\nHi<|im_end|>\n"))
                .containsExactly("<|im_start|>", "user\n", "Hi", "<|im_end|>", "\n");
        assertThat(tokenizer.encode("<|im_start|><|im_end|>")).containsExactly(1, 2);
    }

    @Test
    void piecesConcatenateBackToTheText() {
        String text = "  Ünïcödé text — with 日本語, emoji 😀 and\ttabs\n\nend  ";
        assertThat(String.join("", tokenizer.pieces(text))).isEqualTo(text);
    }

    @Test
    void tokenizingIsPrefixStableAtWordBoundaries() {
        String first = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n";
        String second = "Paris is the capital.<|im_end|>\n<|im_start|>user\nAnd of Spain?";
        int[] whole = tokenizer.encode(first + second);
        int[] parts = IntStream.concat(IntStream.of(tokenizer.encode(first)), IntStream.of(tokenizer.encode(second)))
                .toArray();
        assertThat(whole).containsExactly(parts);
    }

    @Test
    void idsAreStableAndDistinguishWhitespace() {
        assertThat(tokenizer.encode("same same")).containsExactly(Tokenizer.id("same "), Tokenizer.id("same"));
        assertThat(Tokenizer.id("same")).isNotEqualTo(Tokenizer.id("same "));
        assertThat(tokenizer.encode("alpha beta")).containsExactly(tokenizer.encode("alpha beta"));
        assertThat(IntStream.of(tokenizer.encode("x y z")).min().orElseThrow()).isGreaterThanOrEqualTo(16);
    }

    @Test
    void englishProseIsAboutOneTokenPerWord() {
        String prose = "The quick brown fox jumps over the lazy dog while the farmer watches from his porch.";
        int words = prose.split("\\s+").length;
        assertThat(tokenizer.count(prose)).isBetween(words, words + 4);
    }

    @Test
    void emptyAndWhitespaceOnlyTexts() {
        assertThat(tokenizer.pieces("")).isEmpty();
        assertThat(tokenizer.pieces("   ")).isEqualTo(List.of("   "));
        assertThat(tokenizer.pieces("  lead")).containsExactly("  ", "lead");
    }
}
