package dev.lodestar.epp.grpc;

import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Works around Helidon 4.4's gRPC request stream, whose {@code read(byte[], int, int)} returns 0 instead
 * of -1 at the end. protobuf parses messages above 4 MiB straight from that stream and rejects it
 * ("The InputStream implementation is buggy"); Helidon then logs the error and leaves the call open, so
 * the client waits forever. Wrapping each method's request marshaller restores the end-of-stream signal.
 */
final class EndOfStreamMarshaller<T> implements MethodDescriptor.PrototypeMarshaller<T> {
    private final MethodDescriptor.Marshaller<T> delegate;

    private EndOfStreamMarshaller(MethodDescriptor.Marshaller<T> delegate) {
        this.delegate = delegate;
    }

    /** {@code service} with every method's request marshaller wrapped. */
    static ServerServiceDefinition wrap(ServerServiceDefinition service) {
        ServerServiceDefinition.Builder wrapped = ServerServiceDefinition.builder(service.getServiceDescriptor().getName());
        for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
            wrapped.addMethod(wrapMethod(method));
        }
        return wrapped.build();
    }

    private static <Req, Resp> ServerMethodDefinition<Req, Resp> wrapMethod(ServerMethodDefinition<Req, Resp> method) {
        MethodDescriptor<Req, Resp> descriptor = method.getMethodDescriptor();
        MethodDescriptor<Req, Resp> fixed = descriptor.toBuilder(
                new EndOfStreamMarshaller<>(descriptor.getRequestMarshaller()),
                descriptor.getResponseMarshaller()).build();
        return ServerMethodDefinition.create(fixed, method.getServerCallHandler());
    }

    @Override
    public InputStream stream(T value) {
        return delegate.stream(value);
    }

    @Override
    public T parse(InputStream stream) {
        return delegate.parse(new EndOfStreamInputStream(stream));
    }

    @Override
    public Class<T> getMessageClass() {
        return delegate instanceof MethodDescriptor.ReflectableMarshaller<T> reflectable
                ? reflectable.getMessageClass() : null;
    }

    @Override
    public T getMessagePrototype() {
        return delegate instanceof MethodDescriptor.PrototypeMarshaller<T> prototype
                ? prototype.getMessagePrototype() : null;
    }

    /** Keeps {@link KnownLength}, so protobuf's read-it-all fast path for small messages still applies. */
    private static final class EndOfStreamInputStream extends FilterInputStream implements KnownLength {
        EndOfStreamInputStream(InputStream in) {
            super(in);
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (length == 0) {
                return 0;
            }
            int read = in.read(buffer, offset, length);
            while (read == 0) {
                if (in.available() <= 0) {
                    return -1;
                }
                read = in.read(buffer, offset, length);
            }
            return read;
        }
    }
}
