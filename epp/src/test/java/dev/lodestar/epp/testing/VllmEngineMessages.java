package dev.lodestar.epp.testing;

import com.google.protobuf.CodedOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * vLLM gRPC engine messages ({@code vllm.grpc.engine}) written by field number for tests, encoded as Go's
 * {@code proto.Marshal} does (fields in number order, proto3 defaults left out, repeated scalars
 * packed), and the gRPC length prefix around them.
 */
public final class VllmEngineMessages {
    private VllmEngineMessages() {
    }

    /** {@code GenerateRequest{text, stream}}. */
    public static Writer generateText(String text, boolean stream) {
        return Writer.create().string(3, text).bool(5, stream);
    }

    /** {@code GenerateRequest{tokenized{original_text, input_ids}, stream}}. */
    public static Writer generateTokenized(String originalText, boolean stream, long... inputIds) {
        return Writer.create().message(2, tokenizedInput(originalText, inputIds)).bool(5, stream);
    }

    /** {@code EmbedRequest{tokenized{original_text}}}. */
    public static Writer embed(String originalText, long... inputIds) {
        return Writer.create().message(2, tokenizedInput(originalText, inputIds));
    }

    public static Writer tokenizedInput(String originalText, long... inputIds) {
        return Writer.create().string(1, originalText).packedVarints(2, inputIds);
    }

    /** {@code GenerateResponse{chunk{token_ids, prompt_tokens, completion_tokens, cached_tokens}}}. */
    public static Writer chunk(long promptTokens, long completionTokens, long cachedTokens, long... tokenIds) {
        return Writer.create().message(1, Writer.create().packedVarints(1, tokenIds).varint(2, promptTokens)
                .varint(3, completionTokens).varint(4, cachedTokens));
    }

    /** {@code GenerateResponse{complete{finish_reason, prompt_tokens, completion_tokens, cached_tokens}}}. */
    public static Writer complete(String finishReason, long promptTokens, long completionTokens, long cachedTokens) {
        return Writer.create().message(2, Writer.create().string(2, finishReason).varint(3, promptTokens)
                .varint(4, completionTokens).varint(5, cachedTokens));
    }

    /** {@code EmbedResponse{embedding, prompt_tokens, embedding_dim}}. */
    public static Writer embedResponse(long promptTokens, float... embedding) {
        return Writer.create().packedFloats(1, embedding).varint(2, promptTokens).varint(3, embedding.length);
    }

    /** A message under construction; each call appends one field unless it holds the proto3 default. */
    public static final class Writer {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final CodedOutputStream out = CodedOutputStream.newInstance(bytes);

        private Writer() {
        }

        public static Writer create() {
            return new Writer();
        }

        public Writer string(int field, String value) {
            return value.isEmpty() ? this : write(() -> out.writeString(field, value));
        }

        public Writer varint(int field, long value) {
            return value == 0 ? this : write(() -> out.writeUInt64(field, value));
        }

        public Writer bool(int field, boolean value) {
            return value ? write(() -> out.writeBool(field, true)) : this;
        }

        public Writer message(int field, Writer message) {
            byte[] encoded = message.bytes();
            return write(() -> out.writeByteArray(field, encoded));
        }

        public Writer packedVarints(int field, long... values) {
            if (values.length == 0) {
                return this;
            }
            int size = 0;
            for (long value : values) {
                size += CodedOutputStream.computeUInt64SizeNoTag(value);
            }
            int length = size;
            return write(() -> {
                out.writeTag(field, 2);
                out.writeUInt32NoTag(length);
                for (long value : values) {
                    out.writeUInt64NoTag(value);
                }
            });
        }

        public Writer packedFloats(int field, float... values) {
            if (values.length == 0) {
                return this;
            }
            return write(() -> {
                out.writeTag(field, 2);
                out.writeUInt32NoTag(values.length * 4);
                for (float value : values) {
                    out.writeFloatNoTag(value);
                }
            });
        }

        /** Bytes appended as they are, e.g. another message's fields or a broken field. */
        public Writer raw(byte[] encoded) {
            return write(() -> out.writeRawBytes(encoded));
        }

        /** Bytes given as ints (only the low 8 bits count), appended as they are. */
        public Writer raw(int... encoded) {
            byte[] bytes = new byte[encoded.length];
            for (int i = 0; i < encoded.length; i++) {
                bytes[i] = (byte) encoded[i];
            }
            return raw(bytes);
        }

        public byte[] bytes() {
            write(out::flush);
            return bytes.toByteArray();
        }

        /** The message behind an uncompressed gRPC length prefix. */
        public byte[] frame() {
            return frame(false, bytes());
        }

        public static byte[] frame(boolean compressed, byte[] message) {
            byte[] framed = new byte[5 + message.length];
            framed[0] = (byte) (compressed ? 1 : 0);
            framed[1] = (byte) (message.length >>> 24);
            framed[2] = (byte) (message.length >>> 16);
            framed[3] = (byte) (message.length >>> 8);
            framed[4] = (byte) message.length;
            System.arraycopy(message, 0, framed, 5, message.length);
            return framed;
        }

        private Writer write(IoAction action) {
            try {
                action.run();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        @FunctionalInterface
        private interface IoAction {
            void run() throws IOException;
        }
    }
}
