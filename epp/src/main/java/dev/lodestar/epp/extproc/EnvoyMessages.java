package dev.lodestar.epp.extproc;

import com.google.protobuf.ByteString;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Building and reading Envoy ext_proc messages: header maps, header mutations (values always in
 * {@code raw_value}, which is what Envoy reads), body chunking and dynamic metadata.
 */
final class EnvoyMessages {
    /** The largest body chunk sent back to Envoy, as GIE's EPP. */
    static final int BODY_CHUNK_LIMIT = 62_000;

    private EnvoyMessages() {
    }

    /** Headers of a header map, lower-case names, {@code raw_value} preferred over {@code value}; last one wins. */
    static Map<String, String> headers(HeaderMap map) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (HeaderValue header : map.getHeadersList()) {
            String value = header.getRawValue().isEmpty()
                    ? header.getValue()
                    : header.getRawValue().toString(StandardCharsets.UTF_8);
            headers.put(header.getKey().toLowerCase(java.util.Locale.ROOT), value);
        }
        return headers;
    }

    static HeaderValueOption setHeader(String name, String value) {
        return HeaderValueOption.newBuilder()
                .setHeader(HeaderValue.newBuilder().setKey(name).setRawValue(ByteString.copyFromUtf8(value)))
                .build();
    }

    /** Body messages of at most {@link #BODY_CHUNK_LIMIT} bytes; an empty body is one empty message. */
    static List<CommonResponse> bodyChunks(byte[] body, boolean endOfStream) {
        List<CommonResponse> chunks = new ArrayList<>(body.length / BODY_CHUNK_LIMIT + 1);
        if (body.length == 0) {
            chunks.add(bodyChunk(ByteString.EMPTY, endOfStream));
            return chunks;
        }
        for (int start = 0; start < body.length; start += BODY_CHUNK_LIMIT) {
            int length = Math.min(BODY_CHUNK_LIMIT, body.length - start);
            boolean last = start + length >= body.length;
            chunks.add(bodyChunk(ByteString.copyFrom(body, start, length), endOfStream && last));
        }
        return chunks;
    }

    private static CommonResponse bodyChunk(ByteString bytes, boolean endOfStream) {
        return CommonResponse.newBuilder()
                .setBodyMutation(BodyMutation.newBuilder().setStreamedResponse(
                        StreamedBodyResponse.newBuilder().setBody(bytes).setEndOfStream(endOfStream)))
                .build();
    }

    /**
     * Request-body messages; {@code endOfStream} is false when request trailers ended the body, since Envoy
     * then ends the stream with the trailers response.
     */
    static List<ProcessingResponse> requestBodyResponses(byte[] body, boolean endOfStream) {
        List<ProcessingResponse> responses = new ArrayList<>();
        for (CommonResponse chunk : bodyChunks(body, endOfStream)) {
            responses.add(ProcessingResponse.newBuilder()
                    .setRequestBody(BodyResponse.newBuilder().setResponse(chunk)).build());
        }
        return responses;
    }

    /** Response-body messages; {@code metadata} (when not empty) rides on the last one. */
    static List<ProcessingResponse> responseBodyResponses(byte[] body, boolean endOfStream, Struct metadata) {
        List<CommonResponse> chunks = bodyChunks(body, endOfStream);
        List<ProcessingResponse> responses = new ArrayList<>(chunks.size());
        for (int i = 0; i < chunks.size(); i++) {
            ProcessingResponse.Builder response = ProcessingResponse.newBuilder()
                    .setResponseBody(BodyResponse.newBuilder().setResponse(chunks.get(i)));
            if (i == chunks.size() - 1 && metadata.getFieldsCount() > 0) {
                response.setDynamicMetadata(metadata);
            }
            responses.add(response.build());
        }
        return responses;
    }

    static ProcessingResponse immediateResponse(int status, String body) {
        StatusCode code = StatusCode.forNumber(status);
        return ProcessingResponse.newBuilder()
                .setImmediateResponse(ImmediateResponse.newBuilder()
                        .setStatus(HttpStatus.newBuilder().setCodeValue(code == null ? status : code.getNumber()))
                        .setBody(ByteString.copyFromUtf8(body)))
                .build();
    }

    /** {@code {namespace: {key: value}}} for dynamic metadata. */
    static Struct metadata(Map<String, Map<String, Object>> namespaces) {
        Struct.Builder root = Struct.newBuilder();
        namespaces.forEach((namespace, fields) -> {
            Struct.Builder inner = Struct.newBuilder();
            fields.forEach((key, value) -> inner.putFields(key, value(value)));
            root.putFields(namespace, Value.newBuilder().setStructValue(inner).build());
        });
        return root.build();
    }

    private static Value value(Object value) {
        if (value instanceof Value protobuf) {
            return protobuf;
        }
        if (value instanceof String text) {
            return Value.newBuilder().setStringValue(text).build();
        }
        if (value instanceof Number number) {
            return Value.newBuilder().setNumberValue(number.doubleValue()).build();
        }
        if (value instanceof Boolean flag) {
            return Value.newBuilder().setBoolValue(flag).build();
        }
        if (value instanceof List<?> list) {
            ListValue.Builder items = ListValue.newBuilder();
            list.forEach(item -> items.addValues(value(item)));
            return Value.newBuilder().setListValue(items).build();
        }
        return Value.newBuilder().setStringValue(String.valueOf(value)).build();
    }

    /**
     * The string entries under {@code namespace / key} of filter metadata: a list value, or one string that
     * may be comma-separated; empty when the key is absent; an empty list when present but empty.
     */
    static java.util.Optional<List<String>> stringList(Map<String, Struct> filterMetadata, String namespace,
                                                       String key) {
        Struct struct = filterMetadata.get(namespace);
        if (struct == null || !struct.containsFields(key)) {
            return java.util.Optional.empty();
        }
        Value value = struct.getFieldsOrThrow(key);
        List<String> entries = new ArrayList<>();
        if (value.hasListValue()) {
            for (Value item : value.getListValue().getValuesList()) {
                if (item.hasStringValue()) {
                    entries.add(item.getStringValue());
                }
            }
        } else if (value.hasStringValue()) {
            for (String part : value.getStringValue().split(",")) {
                if (!part.isBlank()) {
                    entries.add(part.trim());
                }
            }
        }
        return java.util.Optional.of(entries);
    }
}
