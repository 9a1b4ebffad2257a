package dev.lodestar.gateway;

import com.google.protobuf.ByteString;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The ext_proc messages the gateway sends, and the mutations it applies, as Envoy's ext_proc filter does
 * (GIE's processing mode: headers SEND, bodies FULL_DUPLEX_STREAMED, trailers SEND).
 */
final class EnvoyMessages {
    static final String LB_NAMESPACE = "envoy.lb";
    static final String SUBSET_NAMESPACE = "envoy.lb.subset_hint";
    static final String SUBSET_KEY = "x-gateway-destination-endpoint-subset";
    static final String DESTINATION = "x-gateway-destination-endpoint";
    static final String SERVED = "x-gateway-destination-endpoint-served";

    private EnvoyMessages() {
    }

    static ProcessingRequest requestHeaders(HeaderBlock headers, boolean endOfStream, Metadata metadata) {
        return ProcessingRequest.newBuilder()
                .setRequestHeaders(HttpHeaders.newBuilder().setHeaders(headerMap(headers)).setEndOfStream(endOfStream))
                .setMetadataContext(metadata)
                .build();
    }

    static ProcessingRequest requestBody(byte[] body, int offset, int length, boolean endOfStream, Metadata metadata) {
        return ProcessingRequest.newBuilder()
                .setRequestBody(HttpBody.newBuilder().setBody(ByteString.copyFrom(body, offset, length))
                        .setEndOfStream(endOfStream))
                .setMetadataContext(metadata)
                .build();
    }

    static ProcessingRequest responseHeaders(HeaderBlock headers, boolean endOfStream, Metadata metadata) {
        return ProcessingRequest.newBuilder()
                .setResponseHeaders(HttpHeaders.newBuilder().setHeaders(headerMap(headers)).setEndOfStream(endOfStream))
                .setMetadataContext(metadata)
                .build();
    }

    static ProcessingRequest responseBody(byte[] chunk, int length, boolean endOfStream) {
        return ProcessingRequest.newBuilder()
                .setResponseBody(HttpBody.newBuilder().setBody(ByteString.copyFrom(chunk, 0, length))
                        .setEndOfStream(endOfStream))
                .build();
    }

    /** The subset hint GIE's data planes send when a route restricts the pool's endpoints. */
    static Metadata subsetHint(Optional<List<String>> subset) {
        if (subset.isEmpty()) {
            return Metadata.getDefaultInstance();
        }
        ListValue.Builder list = ListValue.newBuilder();
        subset.get().forEach(endpoint -> list.addValues(Value.newBuilder().setStringValue(endpoint)));
        return Metadata.newBuilder().putFilterMetadata(SUBSET_NAMESPACE, Struct.newBuilder()
                .putFields(SUBSET_KEY, Value.newBuilder().setListValue(list).build()).build()).build();
    }

    /** Where the response came from, reported on the response path (GIE's served-endpoint metadata). */
    static Metadata served(String endpoint) {
        return Metadata.newBuilder().putFilterMetadata(LB_NAMESPACE, Struct.newBuilder()
                .putFields(SERVED, Value.newBuilder().setStringValue(endpoint).build()).build()).build();
    }

    /** Header values go in {@code raw_value}, as Envoy sends them. */
    static HeaderMap headerMap(HeaderBlock headers) {
        HeaderMap.Builder map = HeaderMap.newBuilder();
        for (Map.Entry<String, String> header : headers.entries()) {
            map.addHeaders(HeaderValue.newBuilder().setKey(header.getKey())
                    .setRawValue(ByteString.copyFrom(header.getValue(), StandardCharsets.UTF_8)));
        }
        return map.build();
    }

    /**
     * Applies a header mutation: removals first, then each set. A set with {@code append: true} adds a value;
     * otherwise, as Envoy's ext_proc filter, the header is overwritten, except for the explicit append actions
     * {@code ADD_IF_ABSENT} and {@code OVERWRITE_IF_EXISTS}. {@code raw_value} wins over {@code value}.
     */
    static void apply(HeaderMutation mutation, HeaderBlock headers) {
        mutation.getRemoveHeadersList().forEach(headers::remove);
        for (HeaderValueOption option : mutation.getSetHeadersList()) {
            String name = option.getHeader().getKey();
            String value = option.getHeader().getRawValue().isEmpty()
                    ? option.getHeader().getValue()
                    : option.getHeader().getRawValue().toStringUtf8();
            if (option.hasAppend()) {
                if (option.getAppend().getValue()) {
                    headers.add(name, value);
                } else {
                    headers.set(name, value);
                }
                continue;
            }
            switch (option.getAppendAction()) {
                case ADD_IF_ABSENT -> {
                    if (!headers.contains(name)) {
                        headers.set(name, value);
                    }
                }
                case OVERWRITE_IF_EXISTS -> {
                    if (headers.contains(name)) {
                        headers.set(name, value);
                    }
                }
                default -> headers.set(name, value);
            }
        }
    }

    /** A string field of a dynamic-metadata namespace. */
    static Optional<String> metadataString(Struct dynamicMetadata, String namespace, String key) {
        Value space = dynamicMetadata.getFieldsMap().get(namespace);
        if (space == null || !space.hasStructValue()) {
            return Optional.empty();
        }
        Value value = space.getStructValue().getFieldsMap().get(key);
        return value == null || !value.hasStringValue() ? Optional.empty() : Optional.of(value.getStringValue());
    }
}
