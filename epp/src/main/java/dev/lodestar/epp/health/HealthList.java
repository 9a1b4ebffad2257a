package dev.lodestar.epp.health;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Empty;
import com.google.protobuf.WireFormat;
import io.grpc.MethodDescriptor;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.protobuf.ProtoUtils;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code grpc.health.v1.Health/List}, which grpc-java 1.73's generated health classes predate: the method
 * descriptor and the {@code HealthListResponse} message ({@code map<string, HealthCheckResponse> statuses = 1})
 * encoded by hand. {@code HealthListRequest} is empty, so {@link Empty} stands in for it on the wire.
 */
public final class HealthList {
    public static final String FULL_METHOD_NAME = "grpc.health.v1.Health/List";

    /** The List method, usable by servers and clients. */
    public static final MethodDescriptor<Empty, Response> METHOD = MethodDescriptor.<Empty, Response>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(FULL_METHOD_NAME)
            .setRequestMarshaller(ProtoUtils.marshaller(Empty.getDefaultInstance()))
            .setResponseMarshaller(new ResponseMarshaller())
            .build();

    private static final int STATUSES_FIELD = 1;
    private static final int ENTRY_KEY_FIELD = 1;
    private static final int ENTRY_VALUE_FIELD = 2;

    private HealthList() {
    }

    /** {@code HealthListResponse}: every service with its status. */
    public record Response(Map<String, HealthCheckResponse.ServingStatus> statuses) {
        public Response {
            statuses = Map.copyOf(statuses);
        }

        byte[] toByteArray() {
            try {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                CodedOutputStream out = CodedOutputStream.newInstance(bytes);
                for (Map.Entry<String, HealthCheckResponse.ServingStatus> entry : statuses.entrySet()) {
                    HealthCheckResponse value = HealthCheckResponse.newBuilder().setStatus(entry.getValue()).build();
                    int entrySize = CodedOutputStream.computeStringSize(ENTRY_KEY_FIELD, entry.getKey())
                            + CodedOutputStream.computeMessageSize(ENTRY_VALUE_FIELD, value);
                    out.writeTag(STATUSES_FIELD, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                    out.writeUInt32NoTag(entrySize);
                    out.writeString(ENTRY_KEY_FIELD, entry.getKey());
                    out.writeMessage(ENTRY_VALUE_FIELD, value);
                }
                out.flush();
                return bytes.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        static Response parse(InputStream stream) throws IOException {
            CodedInputStream in = CodedInputStream.newInstance(stream);
            Map<String, HealthCheckResponse.ServingStatus> statuses = new LinkedHashMap<>();
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                if (WireFormat.getTagFieldNumber(tag) != STATUSES_FIELD) {
                    in.skipField(tag);
                    continue;
                }
                int limit = in.pushLimit(in.readRawVarint32());
                String key = "";
                HealthCheckResponse value = HealthCheckResponse.getDefaultInstance();
                for (int entryTag = in.readTag(); entryTag != 0; entryTag = in.readTag()) {
                    switch (WireFormat.getTagFieldNumber(entryTag)) {
                        case ENTRY_KEY_FIELD -> key = in.readString();
                        case ENTRY_VALUE_FIELD -> value = HealthCheckResponse.parseFrom(in.readBytes());
                        default -> in.skipField(entryTag);
                    }
                }
                in.popLimit(limit);
                statuses.put(key, value.getStatus());
            }
            return new Response(statuses);
        }
    }

    private static final class ResponseMarshaller implements MethodDescriptor.Marshaller<Response> {
        @Override
        public InputStream stream(Response value) {
            return new ByteArrayInputStream(value.toByteArray());
        }

        @Override
        public Response parse(InputStream stream) {
            try {
                return Response.parse(stream);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
