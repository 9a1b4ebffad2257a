package dev.lodestar.epp.testing;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** ext_proc messages the hermetic vectors share, as upstream's test builders make them. */
public final class ExtProcMessages {
    private ExtProcMessages() {
    }

    /** Headers in the order given: name, value, name, value, ... */
    public static Map<String, String> ordered(String... namesAndValues) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            headers.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return headers;
    }

    /** A header as the EPP sets it: the value in {@code raw_value}. */
    public static HeaderValueOption header(String name, String value) {
        return HeaderValueOption.newBuilder().setHeader(HeaderValue.newBuilder().setKey(name)
                .setRawValue(ByteString.copyFromUtf8(value))).build();
    }

    /** {@code envoy.lb / x-gateway-destination-endpoint = destination}. */
    public static Struct destinationMetadata(String destination) {
        return Struct.newBuilder().putFields("envoy.lb", Value.newBuilder().setStructValue(Struct.newBuilder()
                .putFields("x-gateway-destination-endpoint", Value.newBuilder().setStringValue(destination).build()))
                .build()).build();
    }

    /** The immediate response of a failed request. */
    public static List<ProcessingResponse> reject(int status, String message) {
        return List.of(ProcessingResponse.newBuilder().setImmediateResponse(ImmediateResponse.newBuilder()
                .setStatus(HttpStatus.newBuilder().setCode(StatusCode.forNumber(status)))
                .setBody(ByteString.copyFromUtf8(message))).build());
    }

    /** The answer to response headers: the EPP's marker header, then the model server's headers echoed. */
    public static ProcessingResponse echoedResponseHeaders(Map<String, String> echoed) {
        HeaderMutation.Builder mutation = HeaderMutation.newBuilder()
                .addSetHeaders(header("x-went-into-resp-headers", "true"));
        echoed.forEach((name, value) -> mutation.addSetHeaders(header(name, value)));
        return ProcessingResponse.newBuilder().setResponseHeaders(HeadersResponse.newBuilder()
                .setResponse(CommonResponse.newBuilder().setHeaderMutation(mutation))).build();
    }
}
