package dev.lodestar.simulator;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The simulator's deterministic tokenizer. Real vLLM tokenizes with the model's BPE vocabulary; the
 * simulator needs only token counts that are stable and roughly as long as real ones, and token ids
 * that make equal text produce equal KV blocks.
 *
 * <p>Rules, applied left to right:
 * <ul>
 *   <li>the chat-template markers {@code <|im_start|>} and {@code <|im_end|>} are one token each;</li>
 *   <li>otherwise a token is a run of at most {@value #MAX_WORD_CHARS} letters or digits, or exactly
 *       one other character (punctuation, symbols), followed by any whitespace after it;</li>
 *   <li>whitespace at the start of the text or after a marker is a token of its own.</li>
 * </ul>
 * English prose comes out at about one token per word (4-5 characters per token, as with common BPE
 * vocabularies). Splitting never looks back, and whitespace belongs to the token before it, so
 * {@code tokenize(a + b) == tokenize(a) + tokenize(b)} whenever {@code b} starts with a non-space
 * character: a prompt rendered by {@link ChatTemplate} ends with {@code "assistant\n"}, and the next
 * turn's prompt starts with exactly the tokens of this prompt followed by those of the answer, which is
 * what makes multi-turn prefix caching work.
 *
 * <p>A token's id is the FNV-1a hash of its UTF-16 code units, folded into {@code [16, 2^31)}; ids 1 and 2
 * are the markers.
 */
public final class Tokenizer {
    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";
    static final int MAX_WORD_CHARS = 6;
    private static final int SPECIAL_TOKENS = 16;
    private static final int IM_START_ID = 1;
    private static final int IM_END_ID = 2;

    private static final Tokenizer INSTANCE = new Tokenizer();

    private Tokenizer() {
    }

    public static Tokenizer create() {
        return INSTANCE;
    }

    /** Splits {@code text} into token pieces; concatenating the pieces gives back {@code text}. */
    public List<String> pieces(String text) {
        List<String> pieces = new ArrayList<>(text.length() / 4 + 1);
        split(text, (start, end) -> pieces.add(text.substring(start, end)));
        return pieces;
    }

    /** Token ids of {@code text}. */
    public int[] encode(String text) {
        IntStream.Builder ids = IntStream.builder();
        split(text, (start, end) -> ids.add(id(text, start, end)));
        return ids.build().toArray();
    }

    /** Token ids of pieces produced by {@link #pieces(String)}. */
    public int[] ids(List<String> pieces) {
        int[] ids = new int[pieces.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = id(pieces.get(i));
        }
        return ids;
    }

    /** Number of tokens in {@code text}. */
    public int count(String text) {
        return pieces(text).size();
    }

    static int id(String piece) {
        return id(piece, 0, piece.length());
    }

    private static int id(String text, int start, int end) {
        int length = end - start;
        if (length == IM_START.length() && text.startsWith(IM_START, start)) {
            return IM_START_ID;
        }
        if (length == IM_END.length() && text.startsWith(IM_END, start)) {
            return IM_END_ID;
        }
        int hash = 0x811c9dc5;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            hash = (hash ^ (c & 0xff)) * 0x01000193;
            hash = (hash ^ (c >>> 8)) * 0x01000193;
        }
        return SPECIAL_TOKENS + Integer.remainderUnsigned(hash, Integer.MAX_VALUE - SPECIAL_TOKENS);
    }

    /** Calls {@code sink} with the [start, end) range of every token of {@code text}, in order. */
    private static void split(String text, PieceSink sink) {
        int length = text.length();
        int i = skipWhitespace(text, 0);
        if (i > 0) {
            sink.piece(0, i);
        }
        while (i < length) {
            int start = i;
            int marker = markerLength(text, i);
            if (marker > 0) {
                sink.piece(i, i + marker);
                i += marker;
                int end = skipWhitespace(text, i);
                if (end > i) {
                    sink.piece(i, end);
                    i = end;
                }
                continue;
            }
            int codePoint = text.codePointAt(i);
            if (Character.isLetterOrDigit(codePoint)) {
                int chars = 0;
                while (i < length && chars < MAX_WORD_CHARS) {
                    int cp = text.codePointAt(i);
                    if (!Character.isLetterOrDigit(cp)) {
                        break;
                    }
                    i += Character.charCount(cp);
                    chars++;
                }
            } else {
                i += Character.charCount(codePoint);
            }
            i = skipWhitespace(text, i);
            sink.piece(start, i);
        }
    }

    @FunctionalInterface
    private interface PieceSink {
        void piece(int start, int end);
    }

    private static int markerLength(String text, int at) {
        if (text.startsWith(IM_START, at)) {
            return IM_START.length();
        }
        if (text.startsWith(IM_END, at)) {
            return IM_END.length();
        }
        return 0;
    }

    private static int skipWhitespace(String text, int from) {
        int i = from;
        while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
            i++;
        }
        return i;
    }
}
