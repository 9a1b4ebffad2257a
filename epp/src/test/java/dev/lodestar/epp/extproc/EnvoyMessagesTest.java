package dev.lodestar.epp.extproc;

import com.google.protobuf.ByteString;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

class EnvoyMessagesTest {

    @Test
    void chunkLimitIsUpstreams62000Bytes() {
        assertThat(EnvoyMessages.BODY_CHUNK_LIMIT).isEqualTo(62_000);
    }

    @Test
    void emptyBodyIsOneEmptyChunkCarryingTheEndOfStream() {
        assertThat(streamed(EnvoyMessages.bodyChunks(new byte[0], true)))
                .containsExactly(StreamedBodyResponse.newBuilder().setEndOfStream(true).build());
        assertThat(streamed(EnvoyMessages.bodyChunks(new byte[0], false)))
                .containsExactly(StreamedBodyResponse.getDefaultInstance());
    }

    @Test
    void bodyOfExactlyTheLimitIsOneChunk() {
        List<StreamedBodyResponse> chunks = streamed(EnvoyMessages.bodyChunks(bytes(62_000), true));
        assertThat(chunks).hasSize(1);
        assertThat(chunks.getFirst().getBody().size()).isEqualTo(62_000);
        assertThat(chunks.getFirst().getEndOfStream()).isTrue();
    }

    @Test
    void oneByteOverTheLimitMakesASecondChunkOfOneByte() {
        byte[] body = bytes(62_001);
        List<StreamedBodyResponse> chunks = streamed(EnvoyMessages.bodyChunks(body, true));
        assertThat(chunks).extracting(chunk -> chunk.getBody().size()).containsExactly(62_000, 1);
        assertThat(chunks).extracting(StreamedBodyResponse::getEndOfStream).containsExactly(false, true);
        assertThat(joined(chunks)).isEqualTo(body);
    }

    @Test
    void largeBodyChunksJoinBackToTheBodyAndOnlyTheLastMayEndTheStream() {
        byte[] body = bytes(150_123);
        List<StreamedBodyResponse> withEnd = streamed(EnvoyMessages.bodyChunks(body, true));
        assertThat(withEnd).extracting(chunk -> chunk.getBody().size()).containsExactly(62_000, 62_000, 26_123);
        assertThat(withEnd).extracting(StreamedBodyResponse::getEndOfStream).containsExactly(false, false, true);
        assertThat(joined(withEnd)).isEqualTo(body);

        List<StreamedBodyResponse> withoutEnd = streamed(EnvoyMessages.bodyChunks(body, false));
        assertThat(withoutEnd).extracting(StreamedBodyResponse::getEndOfStream).containsOnly(false);
        assertThat(joined(withoutEnd)).isEqualTo(body);
    }

    @Test
    void requestBodyResponsesEndTheStreamOnlyWhenAsked() {
        List<ProcessingResponse> ended = EnvoyMessages.requestBodyResponses(bytes(70_000), true);
        assertThat(ended).allMatch(ProcessingResponse::hasRequestBody);
        assertThat(ended).extracting(r -> r.getRequestBody().getResponse().getBodyMutation().getStreamedResponse()
                .getEndOfStream()).containsExactly(false, true);

        List<ProcessingResponse> beforeTrailers = EnvoyMessages.requestBodyResponses(bytes(70_000), false);
        assertThat(beforeTrailers).extracting(r -> r.getRequestBody().getResponse().getBodyMutation()
                .getStreamedResponse().getEndOfStream()).containsExactly(false, false);
    }

    @Test
    void responseBodyMetadataRidesOnTheLastMessageOnly() {
        Struct metadata = EnvoyMessages.metadata(Map.of("ns", Map.of("k", "v")));
        List<ProcessingResponse> responses = EnvoyMessages.responseBodyResponses(bytes(130_000), true, metadata);
        assertThat(responses).hasSize(3).allMatch(ProcessingResponse::hasResponseBody);
        assertThat(responses.subList(0, 2)).noneMatch(ProcessingResponse::hasDynamicMetadata);
        assertThat(responses.get(2).getDynamicMetadata()).isEqualTo(metadata);

        List<ProcessingResponse> plain = EnvoyMessages.responseBodyResponses(bytes(10), false, Struct.getDefaultInstance());
        assertThat(plain).hasSize(1).noneMatch(ProcessingResponse::hasDynamicMetadata);
        assertThat(plain.getFirst().getResponseBody().getResponse().getBodyMutation().getStreamedResponse()
                .getEndOfStream()).isFalse();
    }

    @Test
    void headersAreLowerCasedPreferRawValueAndTheLastOneWins() {
        HeaderMap map = HeaderMap.newBuilder()
                .addHeaders(HeaderValue.newBuilder().setKey("Content-Type").setValue("text/plain"))
                .addHeaders(HeaderValue.newBuilder().setKey("x-raw").setValue("ignored")
                        .setRawValue(ByteString.copyFromUtf8("raw")))
                .addHeaders(HeaderValue.newBuilder().setKey("X-Dup").setRawValue(ByteString.copyFromUtf8("first")))
                .addHeaders(HeaderValue.newBuilder().setKey("x-dup").setRawValue(ByteString.copyFromUtf8("second")))
                .build();
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("content-type", "text/plain");
        expected.put("x-raw", "raw");
        expected.put("x-dup", "second");
        assertThat(EnvoyMessages.headers(map)).containsExactlyEntriesOf(expected);
    }

    @Test
    void setHeaderWritesTheRawValueEnvoyReads() {
        HeaderValueOption option = EnvoyMessages.setHeader("Content-Length", "42");
        assertThat(option.getHeader().getKey()).isEqualTo("Content-Length");
        assertThat(option.getHeader().getRawValue().toStringUtf8()).isEqualTo("42");
        assertThat(option.getHeader().getValue()).isEmpty();
    }

    @Test
    void immediateResponseCarriesStatusAndBody() {
        ProcessingResponse response = EnvoyMessages.immediateResponse(429, "inference error: ResourceExhausted - x");
        assertThat(response.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(429);
        assertThat(response.getImmediateResponse().getBody().toStringUtf8())
                .isEqualTo("inference error: ResourceExhausted - x");
    }

    @Test
    void metadataConvertsJavaValuesToProtobufValues() {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("text", "a");
        fields.put("number", 3);
        fields.put("flag", true);
        fields.put("list", List.of("x", 2.5));
        fields.put("raw", Value.newBuilder().setNullValueValue(0).build());
        Struct struct = EnvoyMessages.metadata(Map.of("ns", fields));
        Struct inner = struct.getFieldsOrThrow("ns").getStructValue();
        assertThat(inner.getFieldsOrThrow("text").getStringValue()).isEqualTo("a");
        assertThat(inner.getFieldsOrThrow("number").getNumberValue()).isEqualTo(3.0);
        assertThat(inner.getFieldsOrThrow("flag").getBoolValue()).isTrue();
        assertThat(inner.getFieldsOrThrow("list").getListValue().getValuesList())
                .extracting(Value::getStringValue, Value::getNumberValue)
                .containsExactly(tuple("x", 0.0), tuple("", 2.5));
        assertThat(inner.getFieldsOrThrow("raw").hasNullValue()).isTrue();
    }

    @Test
    void stringListReadsAListOrACommaSeparatedString() {
        Struct list = Struct.newBuilder().putFields("k", Value.newBuilder().setListValue(ListValue.newBuilder()
                .addValues(Value.newBuilder().setStringValue("10.0.0.1:8000"))
                .addValues(Value.newBuilder().setNumberValue(7))
                .addValues(Value.newBuilder().setStringValue("[fd00::1]:8000"))).build()).build();
        assertThat(EnvoyMessages.stringList(Map.of("ns", list), "ns", "k"))
                .contains(List.of("10.0.0.1:8000", "[fd00::1]:8000"));

        Struct text = Struct.newBuilder().putFields("k", Value.newBuilder().setStringValue(" a:1 , ,b:2").build()).build();
        assertThat(EnvoyMessages.stringList(Map.of("ns", text), "ns", "k")).contains(List.of("a:1", "b:2"));
    }

    @Test
    void stringListTellsAbsentFromEmpty() {
        Struct empty = Struct.newBuilder().putFields("k", Value.newBuilder()
                .setListValue(ListValue.getDefaultInstance()).build()).build();
        assertThat(EnvoyMessages.stringList(Map.of("ns", empty), "ns", "k")).contains(List.of());
        assertThat(EnvoyMessages.stringList(Map.of("ns", empty), "ns", "other")).isEmpty();
        assertThat(EnvoyMessages.stringList(Map.of(), "ns", "k")).isEqualTo(Optional.empty());
    }

    private static byte[] bytes(int length) {
        byte[] body = new byte[length];
        for (int i = 0; i < length; i++) {
            body[i] = (byte) ('a' + i % 26);
        }
        return body;
    }

    private static List<StreamedBodyResponse> streamed(List<CommonResponse> chunks) {
        List<StreamedBodyResponse> bodies = new ArrayList<>();
        for (CommonResponse chunk : chunks) {
            assertThat(chunk.getBodyMutation().hasStreamedResponse()).isTrue();
            bodies.add(chunk.getBodyMutation().getStreamedResponse());
        }
        return bodies;
    }

    private static byte[] joined(List<StreamedBodyResponse> chunks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        chunks.forEach(chunk -> out.writeBytes(chunk.getBody().toByteArray()));
        return out.toByteArray();
    }
}
