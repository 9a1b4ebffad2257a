package dev.lodestar.epp.health;

import com.google.protobuf.Empty;
import io.grpc.BindableService;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

import java.util.Objects;

/**
 * {@code grpc.health.v1.Health} over {@link EppHealth}: Check and List answer from it, Watch is
 * UNIMPLEMENTED (as upstream). Add it to the health server and, with {@code --health-checking}, to the
 * ext_proc server too.
 */
public final class HealthGrpcService implements BindableService {
    private final EppHealth health;

    public HealthGrpcService(EppHealth health) {
        this.health = Objects.requireNonNull(health, "health");
    }

    @Override
    public ServerServiceDefinition bindService() {
        MethodDescriptor<HealthCheckRequest, HealthCheckResponse> checkMethod = HealthGrpc.getCheckMethod();
        MethodDescriptor<HealthCheckRequest, HealthCheckResponse> watchMethod = HealthGrpc.getWatchMethod();
        ServiceDescriptor descriptor = ServiceDescriptor.newBuilder(HealthGrpc.SERVICE_NAME)
                .addMethod(checkMethod)
                .addMethod(watchMethod)
                .addMethod(HealthList.METHOD)
                .build();
        return ServerServiceDefinition.builder(descriptor)
                .addMethod(checkMethod, ServerCalls.asyncUnaryCall(this::check))
                .addMethod(watchMethod, ServerCalls.asyncServerStreamingCall(this::watch))
                .addMethod(HealthList.METHOD, ServerCalls.asyncUnaryCall(this::list))
                .build();
    }

    private void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> response) {
        response.onNext(HealthCheckResponse.newBuilder().setStatus(health.check(request.getService())).build());
        response.onCompleted();
    }

    private void list(Empty request, StreamObserver<HealthList.Response> response) {
        response.onNext(new HealthList.Response(health.list()));
        response.onCompleted();
    }

    private void watch(HealthCheckRequest request, StreamObserver<HealthCheckResponse> response) {
        response.onError(Status.UNIMPLEMENTED.withDescription("Watch is not implemented").asRuntimeException());
    }
}
