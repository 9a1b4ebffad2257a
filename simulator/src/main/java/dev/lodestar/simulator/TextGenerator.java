package dev.lodestar.simulator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Decides what a request answers: the output tokens and why generation stops.
 *
 * <p>{@code limit} is max_tokens (or max_completion_tokens), else what fits in max-model-len.
 * <ul>
 *   <li>echo: the prompt (completions) or the last message (chat), cut at {@code limit} tokens
 *       ({@code length}) or complete ({@code stop}); with ignore_eos it repeats until exactly
 *       {@code limit} tokens.</li>
 *   <li>random: sentences from a fixed corpus drawn with a generator seeded by {@code --seed} and the
 *       prompt, so the same request always gets the same answer. With ignore_eos: exactly
 *       {@code limit} tokens. With max_tokens: {@code limit} tokens ({@code length}) for 15% of
 *       requests, else a uniform length in [1, limit - 1] ({@code stop}). Without max_tokens: a length
 *       drawn from N(40, 20), kept within [1, limit].</li>
 * </ul>
 * An empty echo still yields one empty token, the end-of-sequence token a real model would emit.
 */
final class TextGenerator {
    private static final String[] CORPUS = {
            "The gateway sends each request to the server that already holds its prefix.",
            "Prefill reads the whole prompt once, then decode writes one token at a time.",
            "A warm KV cache turns a long prompt into a short wait.",
            "Queues grow when every batch slot is busy.",
            "Routing well is cheaper than adding another accelerator.",
            "Each block of sixteen tokens is hashed together with the block before it.",
            "When memory runs short, the least recently used free block is reused first.",
            "Adapters are small, but only a few fit beside the base model at once.",
            "Latency is what users feel; throughput is what operators pay for.",
            "Streaming lets the first words arrive long before the last.",
            "A scheduler that sees the whole fleet can keep every server busy.",
            "Short answers are cheap, long contexts are not.",
    };

    private final SimulatorConfig.Mode mode;
    private final long seed;
    private final Tokenizer tokenizer;

    TextGenerator(SimulatorConfig.Mode mode, long seed, Tokenizer tokenizer) {
        this.mode = mode;
        this.seed = seed;
        this.tokenizer = tokenizer;
    }

    Generated generate(String echoSource, int[] promptTokens, int limit, boolean limitGiven, boolean ignoreEos) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1");
        }
        return mode == SimulatorConfig.Mode.ECHO
                ? echo(echoSource, limit, ignoreEos)
                : random(promptTokens, limit, limitGiven, ignoreEos);
    }

    private Generated echo(String source, int limit, boolean ignoreEos) {
        List<String> pieces = tokenizer.pieces(source);
        if (pieces.isEmpty()) {
            if (!ignoreEos) {
                return new Generated(List.of(""), FinishReason.STOP);
            }
            pieces = tokenizer.pieces(CORPUS[0]);
        }
        if (ignoreEos) {
            List<String> repeated = new ArrayList<>(limit);
            while (repeated.size() < limit) {
                repeated.add(pieces.get(repeated.size() % pieces.size()));
            }
            return new Generated(repeated, FinishReason.LENGTH);
        }
        if (pieces.size() >= limit) {
            return new Generated(List.copyOf(pieces.subList(0, limit)), FinishReason.LENGTH);
        }
        return new Generated(pieces, FinishReason.STOP);
    }

    private Generated random(int[] promptTokens, int limit, boolean limitGiven, boolean ignoreEos) {
        SplittableRandom random = new SplittableRandom(seed * 0x9e3779b97f4a7c15L + Arrays.hashCode(promptTokens));
        int length;
        if (ignoreEos) {
            length = limit;
        } else if (limitGiven) {
            length = limit == 1 || random.nextDouble() < 0.15 ? limit : 1 + random.nextInt(limit - 1);
        } else {
            length = (int) Math.max(1, Math.min(limit, Math.round(40 + 20 * random.nextGaussian())));
        }
        List<String> pieces = new ArrayList<>(length + 16);
        while (pieces.size() < length) {
            String sentence = CORPUS[random.nextInt(CORPUS.length)];
            pieces.addAll(tokenizer.pieces(pieces.isEmpty() ? sentence : " " + sentence));
        }
        return new Generated(List.copyOf(pieces.subList(0, length)),
                length == limit ? FinishReason.LENGTH : FinishReason.STOP);
    }

    /** Output tokens (as text pieces) and the finish reason. */
    record Generated(List<String> pieces, FinishReason finishReason) {
        String text() {
            return String.join("", pieces);
        }
    }
}
