package dev.lodestar.epp.plugins.vllmgrpcparser;

import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.Chunk;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.Complete;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.EmbedRequest;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.EmbedResponse;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.GenerateRequest;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.MalformedMessage;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.Text;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.TokenizedInput;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.Tokenized;
import dev.lodestar.epp.testing.VllmEngineMessages;
import dev.lodestar.epp.testing.VllmEngineMessages.Writer;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VllmEngineReaderTest {
    @Test
    void aGenerateRequestGivesItsIdTextAndStreamFlag() throws Exception {
        byte[] message = Writer.create().string(1, "req-1").string(3, "hello").bool(5, true).bytes();

        assertThat(VllmEngineReader.generateRequest(message))
                .isEqualTo(new GenerateRequest("req-1", Optional.of(new Text("hello")), true));
    }

    @Test
    void aTokenizedGenerateRequestGivesTheOriginalTextAndTheTokenCount() throws Exception {
        byte[] message = VllmEngineMessages.generateTokenized("hello world", false, 9906, 1917, 300_000).bytes();

        assertThat(VllmEngineReader.generateRequest(message).input())
                .contains(new Tokenized(new TokenizedInput("hello world", 3)));
    }

    @Test
    void anEmptyGenerateRequestHasNoInput() throws Exception {
        assertThat(VllmEngineReader.generateRequest(new byte[0]))
                .isEqualTo(new GenerateRequest("", Optional.empty(), false));
    }

    @Test
    void theLastMemberOfTheInputOneofWins() throws Exception {
        Writer tokenized = VllmEngineMessages.tokenizedInput("tokens", 1, 2);
        byte[] textLast = Writer.create().message(2, tokenized).string(3, "text").bytes();
        byte[] tokenizedLast = Writer.create().string(3, "text").message(2, tokenized).bytes();

        assertThat(VllmEngineReader.generateRequest(textLast).input()).contains(new Text("text"));
        assertThat(VllmEngineReader.generateRequest(tokenizedLast).input())
                .contains(new Tokenized(new TokenizedInput("tokens", 2)));
    }

    @Test
    void repeatedOccurrencesOfAMessageFieldMerge() throws Exception {
        byte[] message = Writer.create()
                .message(2, VllmEngineMessages.tokenizedInput("first", 1, 2))
                .message(2, Writer.create().packedVarints(2, 3))
                .bytes();

        assertThat(VllmEngineReader.generateRequest(message).input())
                .contains(new Tokenized(new TokenizedInput("first", 3)));
    }

    @Test
    void scalarsTakeTheirLastOccurrence() throws Exception {
        byte[] message = Writer.create().string(3, "a").bool(5, true).raw(0x28, 0x00).string(3, "b").bytes();

        assertThat(VllmEngineReader.generateRequest(message))
                .isEqualTo(new GenerateRequest("", Optional.of(new Text("b")), false));
    }

    @Test
    void unknownFieldsAndSamplingParamsAreSkipped() throws Exception {
        byte[] message = Writer.create()
                .string(3, "hi")
                .message(4, Writer.create().raw(0x0D, 0, 0, 0, 0).varint(8, 100)) // sampling_params
                .varint(99, 7)
                .raw(0x33, 0x08, 0x01, 0x34) // group 6 holding a varint
                .raw(0x3D, 1, 2, 3, 4) // fixed32 field 7
                .raw(0x39, 1, 2, 3, 4, 5, 6, 7, 8) // fixed64 field 7
                .bool(5, true)
                .bytes();

        assertThat(VllmEngineReader.generateRequest(message))
                .isEqualTo(new GenerateRequest("", Optional.of(new Text("hi")), true));
    }

    @Test
    void aKnownFieldNumberWithAnotherWireTypeIsAnUnknownField() throws Exception {
        byte[] message = Writer.create().varint(3, 5).raw(0x2A, 0x01, 0x01).bytes(); // text as varint, stream as bytes

        assertThat(VllmEngineReader.generateRequest(message))
                .isEqualTo(new GenerateRequest("", Optional.empty(), false));
    }

    @Test
    void bytesThatAreNotWireFormatAreRefusedWithGosMessage() {
        byte[][] malformed = {
                {0x1A, 0x05, 'a'}, // length beyond the message
                {0x1A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F}, // negative length
                {0x28}, // tag without its value
                {0x28, (byte) 0x80}, // varint cut short
                {0x00, 0x01}, // field number 0
                {0x1E}, // wire type 6
                {0x1F}, // wire type 7
                {0x1C}, // end of a group never opened
                {0x1B, 0x08, 0x01}, // group never closed
                {0x1B, 0x24}, // group closed by another field's end
                {0x12, 0x02, 0x12, 0x05}, // tokenized input whose own field overruns it
                "plain text not grpc payload style".getBytes()};
        for (byte[] bytes : malformed) {
            assertThatThrownBy(() -> VllmEngineReader.generateRequest(bytes))
                    .isInstanceOf(MalformedMessage.class)
                    .hasMessage("proto: cannot parse invalid wire-format data");
        }
    }

    @Test
    void stringsMustBeUtf8() {
        byte[] badText = Writer.create().raw(0x1A, 0x02, (byte) 0xC3, 0x28).bytes();
        byte[] badRequestId = Writer.create().raw(0x0A, 0x01, (byte) 0xFF).string(3, "ok").bytes();
        byte[] badOriginalText = Writer.create().message(2, Writer.create().raw(0x0A, 0x01, (byte) 0x80)).bytes();

        for (byte[] bytes : new byte[][] {badText, badRequestId, badOriginalText}) {
            assertThatThrownBy(() -> VllmEngineReader.generateRequest(bytes))
                    .isInstanceOf(MalformedMessage.class).hasMessage("string field contains invalid UTF-8");
        }
    }

    @Test
    void anEmbedRequestGivesItsTokenizedInput() throws Exception {
        byte[] message = Writer.create().string(1, "e-1").message(2, VllmEngineMessages.tokenizedInput("embed me", 5, 6))
                .bytes();

        assertThat(VllmEngineReader.embedRequest(message))
                .isEqualTo(new EmbedRequest("e-1", Optional.of(new TokenizedInput("embed me", 2))));
        assertThat(VllmEngineReader.embedRequest(Writer.create().string(1, "e-2").bytes()).tokenized()).isEmpty();
    }

    @Test
    void aStreamChunkGivesItsTokenCounts() throws Exception {
        byte[] message = VllmEngineMessages.chunk(7, 10, 3, 1, 2, 3).bytes();

        assertThat(VllmEngineReader.generateResponse(message).outcome()).contains(new Chunk(3, 7, 10, 3));
    }

    @Test
    void tokenIdsMayComeUnpacked() throws Exception {
        byte[] message = Writer.create().message(1, Writer.create().varint(1, 5).varint(1, 6).varint(3, 2)).bytes();

        assertThat(VllmEngineReader.generateResponse(message).outcome()).contains(new Chunk(2, 0, 2, 0));
    }

    @Test
    void aCompletionGivesItsFinishReasonAndCounts() throws Exception {
        byte[] message = VllmEngineMessages.complete("stop", 7, 10, 0).bytes();

        assertThat(VllmEngineReader.generateResponse(message).outcome()).contains(new Complete(0, "stop", 7, 10, 0));
    }

    @Test
    void theLastResponseMemberWinsAndTheSameMemberMerges() throws Exception {
        byte[] chunkThenComplete = Writer.create().raw(VllmEngineMessages.chunk(1, 1, 0).bytes())
                .raw(VllmEngineMessages.complete("length", 4, 5, 0).bytes()).bytes();
        byte[] twoChunks = Writer.create().raw(VllmEngineMessages.chunk(7, 0, 0, 1).bytes())
                .raw(VllmEngineMessages.chunk(0, 10, 0, 2).bytes()).bytes();

        assertThat(VllmEngineReader.generateResponse(chunkThenComplete).outcome())
                .contains(new Complete(0, "length", 4, 5, 0));
        assertThat(VllmEngineReader.generateResponse(twoChunks).outcome()).contains(new Chunk(2, 7, 10, 0));
        assertThat(VllmEngineReader.generateResponse(new byte[0]).outcome()).isEmpty();
    }

    @Test
    void uint32CountsKeepTheLow32BitsOfTheVarint() throws Exception {
        byte[] message = Writer.create().message(1, Writer.create().varint(2, (1L << 32) + 5).varint(3, 0xFFFF_FFFFL))
                .bytes();

        assertThat(VllmEngineReader.generateResponse(message).outcome()).contains(new Chunk(0, 5, 0xFFFF_FFFFL, 0));
    }

    @Test
    void anEmbedResponseGivesItsValueCountPromptTokensAndDimension() throws Exception {
        assertThat(VllmEngineReader.embedResponse(VllmEngineMessages.embedResponse(5, 0.5f, -1f, 2f).bytes()))
                .isEqualTo(new EmbedResponse(3, 5, 3));
        byte[] unpacked = Writer.create().raw(0x0D, 0, 0, 0, 0x3F).raw(0x0D, 0, 0, 0, 0x3F).bytes();
        assertThat(VllmEngineReader.embedResponse(unpacked)).isEqualTo(new EmbedResponse(2, 0, 0));
    }

    @Test
    void packedFloatsMustFillWholeValues() {
        byte[] message = Writer.create().raw(0x0A, 0x03, 0, 0, 0).bytes();

        assertThatThrownBy(() -> VllmEngineReader.embedResponse(message)).isInstanceOf(MalformedMessage.class)
                .hasMessage(VllmEngineReader.INVALID_WIRE_FORMAT);
    }

    @Test
    void packedVarintsMustBeComplete() {
        byte[] message = Writer.create().raw(0x0A, 0x04, 0x0A, 0x02, 0x01, (byte) 0x80).bytes();

        assertThatThrownBy(() -> VllmEngineReader.generateResponse(message)).isInstanceOf(MalformedMessage.class)
                .hasMessage(VllmEngineReader.INVALID_WIRE_FORMAT);
    }
}
