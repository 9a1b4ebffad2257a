package dev.lodestar.epp.plugins.vllmgrpcparser;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;

import java.io.IOException;
import java.util.Optional;

/**
 * Reads the few fields of vLLM's gRPC engine messages ({@code vllm.grpc.engine}, as GIE v1.5.0 carries
 * it) that routing needs, by field number, without generated classes. Decoding follows proto3 as Go's
 * protobuf runtime applies it, so the same bytes are accepted or refused as upstream: the last
 * occurrence of a scalar wins, repeated occurrences of a message merge, a oneof keeps its last member,
 * a known field number with another wire type is an unknown field, strings must be UTF-8.
 * {@code sampling_params} is skipped whole, not checked inside.
 */
final class VllmEngineReader {
    /** Go's message for bytes that are not protobuf wire format. */
    static final String INVALID_WIRE_FORMAT = "proto: cannot parse invalid wire-format data";
    /** Go's message for a proto3 string that is not UTF-8. */
    static final String INVALID_UTF8 = "string field contains invalid UTF-8";

    private VllmEngineReader() {
    }

    /** {@code TokenizedInput}: the text the router tokenized and how many token ids it sent. */
    record TokenizedInput(String originalText, int tokenCount) {
    }

    /** The {@code input} oneof of {@code GenerateRequest}. */
    sealed interface GenerateInput permits Text, Tokenized {
    }

    /** {@code GenerateRequest.text}. */
    record Text(String text) implements GenerateInput {
    }

    /** {@code GenerateRequest.tokenized}. */
    record Tokenized(TokenizedInput input) implements GenerateInput {
    }

    /** {@code GenerateRequest}: request id, input (empty when neither member is set) and stream flag. */
    record GenerateRequest(String requestId, Optional<GenerateInput> input, boolean stream) {
    }

    /** {@code EmbedRequest}. */
    record EmbedRequest(String requestId, Optional<TokenizedInput> tokenized) {
    }

    /** The {@code response} oneof of {@code GenerateResponse}. Token counts are uint32, hence long. */
    sealed interface GenerateOutcome permits Chunk, Complete {
        long promptTokens();

        long completionTokens();

        long cachedTokens();
    }

    /** {@code GenerateStreamChunk}: a streamed increment; counts usually only on the last one. */
    record Chunk(int tokenIdCount, long promptTokens, long completionTokens, long cachedTokens)
            implements GenerateOutcome {
    }

    /** {@code GenerateComplete}: the final (or only) message of a generation. */
    record Complete(int outputIdCount, String finishReason, long promptTokens, long completionTokens,
                    long cachedTokens) implements GenerateOutcome {
    }

    /** {@code GenerateResponse}; the outcome is empty when neither member is set. */
    record GenerateResponse(Optional<GenerateOutcome> outcome) {
    }

    /** {@code EmbedResponse}: how many embedding values, prompt tokens and dimension. */
    record EmbedResponse(int embeddingCount, long promptTokens, long embeddingDim) {
    }

    /** Bytes that do not decode as the message; the text is the Go runtime's. */
    static final class MalformedMessage extends Exception {
        MalformedMessage(String message) {
            super(message, null, false, false);
        }
    }

    // GenerateRequest
    private static final int GENERATE_REQUEST_ID = 1;
    private static final int GENERATE_TOKENIZED = 2;
    private static final int GENERATE_TEXT = 3;
    private static final int GENERATE_STREAM = 5;
    // EmbedRequest
    private static final int EMBED_REQUEST_ID = 1;
    private static final int EMBED_TOKENIZED = 2;
    // TokenizedInput
    private static final int TOKENIZED_ORIGINAL_TEXT = 1;
    private static final int TOKENIZED_INPUT_IDS = 2;
    // GenerateResponse
    private static final int RESPONSE_CHUNK = 1;
    private static final int RESPONSE_COMPLETE = 2;
    // GenerateStreamChunk
    private static final int CHUNK_TOKEN_IDS = 1;
    private static final int CHUNK_PROMPT_TOKENS = 2;
    private static final int CHUNK_COMPLETION_TOKENS = 3;
    private static final int CHUNK_CACHED_TOKENS = 4;
    // GenerateComplete
    private static final int COMPLETE_OUTPUT_IDS = 1;
    private static final int COMPLETE_FINISH_REASON = 2;
    private static final int COMPLETE_PROMPT_TOKENS = 3;
    private static final int COMPLETE_COMPLETION_TOKENS = 4;
    private static final int COMPLETE_CACHED_TOKENS = 5;
    // EmbedResponse
    private static final int EMBED_EMBEDDING = 1;
    private static final int EMBED_PROMPT_TOKENS = 2;
    private static final int EMBED_DIM = 3;

    static GenerateRequest generateRequest(byte[] message) throws MalformedMessage {
        return decode(message, in -> {
            String requestId = "";
            GenerateInput input = null;
            boolean stream = false;
            while (true) {
                int tag = nextTag(in);
                if (tag == 0) {
                    return new GenerateRequest(requestId, Optional.ofNullable(input), stream);
                }
                switch (field(tag, GENERATE_REQUEST_FIELDS)) {
                    case GENERATE_REQUEST_ID -> requestId = string(in);
                    case GENERATE_TOKENIZED -> input = new Tokenized(tokenized(in,
                            input instanceof Tokenized(TokenizedInput previous) ? previous : null));
                    case GENERATE_TEXT -> input = new Text(string(in));
                    case GENERATE_STREAM -> stream = in.readBool();
                    default -> in.skipField(tag);
                }
            }
        });
    }

    static EmbedRequest embedRequest(byte[] message) throws MalformedMessage {
        return decode(message, in -> {
            String requestId = "";
            TokenizedInput tokenized = null;
            while (true) {
                int tag = nextTag(in);
                if (tag == 0) {
                    return new EmbedRequest(requestId, Optional.ofNullable(tokenized));
                }
                switch (field(tag, EMBED_REQUEST_FIELDS)) {
                    case EMBED_REQUEST_ID -> requestId = string(in);
                    case EMBED_TOKENIZED -> tokenized = tokenized(in, tokenized);
                    default -> in.skipField(tag);
                }
            }
        });
    }

    static GenerateResponse generateResponse(byte[] message) throws MalformedMessage {
        return decode(message, in -> {
            GenerateOutcome outcome = null;
            while (true) {
                int tag = nextTag(in);
                if (tag == 0) {
                    return new GenerateResponse(Optional.ofNullable(outcome));
                }
                switch (field(tag, GENERATE_RESPONSE_FIELDS)) {
                    case RESPONSE_CHUNK -> outcome = chunk(in, outcome instanceof Chunk previous ? previous : null);
                    case RESPONSE_COMPLETE -> outcome = complete(in,
                            outcome instanceof Complete previous ? previous : null);
                    default -> in.skipField(tag);
                }
            }
        });
    }

    static EmbedResponse embedResponse(byte[] message) throws MalformedMessage {
        return decode(message, in -> {
            int embeddingCount = 0;
            long promptTokens = 0;
            long embeddingDim = 0;
            while (true) {
                int tag = nextTag(in);
                if (tag == 0) {
                    return new EmbedResponse(embeddingCount, promptTokens, embeddingDim);
                }
                switch (field(tag, EMBED_RESPONSE_FIELDS)) {
                    case EMBED_EMBEDDING -> embeddingCount += fixed32Values(in, tag);
                    case EMBED_PROMPT_TOKENS -> promptTokens = uint32(in);
                    case EMBED_DIM -> embeddingDim = uint32(in);
                    default -> in.skipField(tag);
                }
            }
        });
    }

    private static TokenizedInput tokenized(CodedInputStream in, TokenizedInput previous) throws IOException,
            MalformedMessage {
        String originalText = previous == null ? "" : previous.originalText();
        int tokenCount = previous == null ? 0 : previous.tokenCount();
        int limit = in.pushLimit(in.readRawVarint32());
        while (true) {
            int tag = nextTag(in);
            if (tag == 0) {
                in.popLimit(limit);
                return new TokenizedInput(originalText, tokenCount);
            }
            switch (field(tag, TOKENIZED_INPUT_FIELDS)) {
                case TOKENIZED_ORIGINAL_TEXT -> originalText = string(in);
                case TOKENIZED_INPUT_IDS -> tokenCount += varintValues(in, tag);
                default -> in.skipField(tag);
            }
        }
    }

    private static Chunk chunk(CodedInputStream in, Chunk previous) throws IOException, MalformedMessage {
        int tokenIds = previous == null ? 0 : previous.tokenIdCount();
        long prompt = previous == null ? 0 : previous.promptTokens();
        long completion = previous == null ? 0 : previous.completionTokens();
        long cached = previous == null ? 0 : previous.cachedTokens();
        int limit = in.pushLimit(in.readRawVarint32());
        while (true) {
            int tag = nextTag(in);
            if (tag == 0) {
                in.popLimit(limit);
                return new Chunk(tokenIds, prompt, completion, cached);
            }
            switch (field(tag, CHUNK_FIELDS)) {
                case CHUNK_TOKEN_IDS -> tokenIds += varintValues(in, tag);
                case CHUNK_PROMPT_TOKENS -> prompt = uint32(in);
                case CHUNK_COMPLETION_TOKENS -> completion = uint32(in);
                case CHUNK_CACHED_TOKENS -> cached = uint32(in);
                default -> in.skipField(tag);
            }
        }
    }

    private static Complete complete(CodedInputStream in, Complete previous) throws IOException, MalformedMessage {
        int outputIds = previous == null ? 0 : previous.outputIdCount();
        String finishReason = previous == null ? "" : previous.finishReason();
        long prompt = previous == null ? 0 : previous.promptTokens();
        long completion = previous == null ? 0 : previous.completionTokens();
        long cached = previous == null ? 0 : previous.cachedTokens();
        int limit = in.pushLimit(in.readRawVarint32());
        while (true) {
            int tag = nextTag(in);
            if (tag == 0) {
                in.popLimit(limit);
                return new Complete(outputIds, finishReason, prompt, completion, cached);
            }
            switch (field(tag, COMPLETE_FIELDS)) {
                case COMPLETE_OUTPUT_IDS -> outputIds += varintValues(in, tag);
                case COMPLETE_FINISH_REASON -> finishReason = string(in);
                case COMPLETE_PROMPT_TOKENS -> prompt = uint32(in);
                case COMPLETE_COMPLETION_TOKENS -> completion = uint32(in);
                case COMPLETE_CACHED_TOKENS -> cached = uint32(in);
                default -> in.skipField(tag);
            }
        }
    }

    // --- wire level ---------------------------------------------------------------------------------

    /** How a field is encoded; a tag with another wire type is an unknown field. */
    private enum Encoding {
        VARINT, LENGTH_DELIMITED, REPEATED_VARINT, REPEATED_FIXED32;

        boolean accepts(int wireType) {
            return switch (this) {
                case VARINT -> wireType == WireFormat.WIRETYPE_VARINT;
                case LENGTH_DELIMITED -> wireType == WireFormat.WIRETYPE_LENGTH_DELIMITED;
                // Repeated scalars come packed (length-delimited) or one value per tag.
                case REPEATED_VARINT -> wireType == WireFormat.WIRETYPE_VARINT
                        || wireType == WireFormat.WIRETYPE_LENGTH_DELIMITED;
                case REPEATED_FIXED32 -> wireType == WireFormat.WIRETYPE_FIXED32
                        || wireType == WireFormat.WIRETYPE_LENGTH_DELIMITED;
            };
        }
    }

    // The fields each message reads, indexed by field number (proto interface facts).
    private static final Encoding[] GENERATE_REQUEST_FIELDS = {null, Encoding.LENGTH_DELIMITED,
            Encoding.LENGTH_DELIMITED, Encoding.LENGTH_DELIMITED, null, Encoding.VARINT};
    private static final Encoding[] EMBED_REQUEST_FIELDS = {null, Encoding.LENGTH_DELIMITED,
            Encoding.LENGTH_DELIMITED};
    private static final Encoding[] TOKENIZED_INPUT_FIELDS = {null, Encoding.LENGTH_DELIMITED,
            Encoding.REPEATED_VARINT};
    private static final Encoding[] GENERATE_RESPONSE_FIELDS = {null, Encoding.LENGTH_DELIMITED,
            Encoding.LENGTH_DELIMITED};
    private static final Encoding[] CHUNK_FIELDS = {null, Encoding.REPEATED_VARINT, Encoding.VARINT,
            Encoding.VARINT, Encoding.VARINT};
    private static final Encoding[] COMPLETE_FIELDS = {null, Encoding.REPEATED_VARINT,
            Encoding.LENGTH_DELIMITED, Encoding.VARINT, Encoding.VARINT, Encoding.VARINT};
    private static final Encoding[] EMBED_RESPONSE_FIELDS = {null, Encoding.REPEATED_FIXED32, Encoding.VARINT,
            Encoding.VARINT};

    @FunctionalInterface
    private interface MessageDecoder<T> {
        T decode(CodedInputStream in) throws IOException, MalformedMessage;
    }

    private static <T> T decode(byte[] message, MessageDecoder<T> decoder) throws MalformedMessage {
        try {
            return decoder.decode(CodedInputStream.newInstance(message));
        } catch (IOException e) {
            // InvalidProtocolBufferException: truncated, bad varint, bad length, tag 0, unbalanced group...
            throw new MalformedMessage(INVALID_WIRE_FORMAT);
        }
    }

    /** The next tag, or 0 at the end of the message (or of the current sub-message's limit). */
    private static int nextTag(CodedInputStream in) throws IOException, MalformedMessage {
        if (in.isAtEnd()) {
            return 0;
        }
        int tag = in.readTag();
        int wireType = WireFormat.getTagWireType(tag);
        if (wireType == WireFormat.WIRETYPE_END_GROUP || wireType > WireFormat.WIRETYPE_FIXED32) {
            // An end-group tag with no group open, or wire type 6/7: Go refuses both.
            throw new MalformedMessage(INVALID_WIRE_FORMAT);
        }
        return tag;
    }

    /** The tag's field number when {@code fields} knows it with this wire type, else -1 (an unknown field). */
    private static int field(int tag, Encoding[] fields) {
        int number = WireFormat.getTagFieldNumber(tag);
        boolean known = number < fields.length && fields[number] != null
                && fields[number].accepts(WireFormat.getTagWireType(tag));
        return known ? number : -1;
    }

    private static String string(CodedInputStream in) throws IOException, MalformedMessage {
        ByteString bytes = in.readBytes();
        if (!bytes.isValidUtf8()) {
            throw new MalformedMessage(INVALID_UTF8);
        }
        return bytes.toStringUtf8();
    }

    private static long uint32(CodedInputStream in) throws IOException {
        return Integer.toUnsignedLong(in.readUInt32());
    }

    private static int varintValues(CodedInputStream in, int tag) throws IOException {
        if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
            in.readRawVarint64();
            return 1;
        }
        int count = 0;
        int limit = in.pushLimit(in.readRawVarint32());
        while (!in.isAtEnd()) {
            in.readRawVarint64();
            count++;
        }
        in.popLimit(limit);
        return count;
    }

    private static int fixed32Values(CodedInputStream in, int tag) throws IOException {
        if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_FIXED32) {
            in.readRawLittleEndian32();
            return 1;
        }
        int count = 0;
        int limit = in.pushLimit(in.readRawVarint32());
        while (!in.isAtEnd()) {
            in.readRawLittleEndian32();
            count++;
        }
        in.popLimit(limit);
        return count;
    }
}
