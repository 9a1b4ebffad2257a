package dev.lodestar.gateway;

import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One ext_proc {@code Process} stream, i.e. one HTTP request's conversation with the EPP. Messages to the EPP are
 * sent from any thread (serialized here); replies are taken in order with a bounded wait.
 */
final class ExtProcStream {
    private static final Object COMPLETED = new Object();

    private final LinkedBlockingQueue<Object> replies = new LinkedBlockingQueue<>();
    private final ClientCallStreamObserver<ProcessingRequest> requests;
    private boolean closed;

    @SuppressWarnings("unchecked")
    private ExtProcStream(ExternalProcessorGrpc.ExternalProcessorStub stub) {
        Object[] holder = new Object[1];
        stub.process(new ClientResponseObserver<ProcessingRequest, ProcessingResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<ProcessingRequest> requestStream) {
                holder[0] = requestStream;
            }

            @Override
            public void onNext(ProcessingResponse response) {
                replies.add(response);
            }

            @Override
            public void onError(Throwable error) {
                replies.add(Status.fromThrowable(error));
            }

            @Override
            public void onCompleted() {
                replies.add(COMPLETED);
            }
        });
        this.requests = (ClientCallStreamObserver<ProcessingRequest>) holder[0];
    }

    static ExtProcStream open(ExternalProcessorGrpc.ExternalProcessorStub stub) {
        return new ExtProcStream(stub);
    }

    synchronized void send(ProcessingRequest request) {
        if (!closed) {
            requests.onNext(request);
        }
    }

    /** The EPP's next reply, or null when none came within {@code timeout}. */
    ProcessingResponse poll(Duration timeout) throws InterruptedException {
        Object reply = replies.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        return reply == null ? null : unwrap(reply);
    }

    /**
     * The EPP's next reply.
     *
     * @throws ExtProcException when the stream failed, ended, or nothing came within {@code timeout}
     */
    ProcessingResponse next(Duration timeout) throws InterruptedException {
        Object reply = replies.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        if (reply == null) {
            cancel("no reply from the EPP within " + timeout.toMillis() + " ms");
            throw new ExtProcException("the EPP sent no reply within " + timeout.toMillis() + " ms");
        }
        return unwrap(reply);
    }

    private static ProcessingResponse unwrap(Object reply) {
        if (reply instanceof ProcessingResponse response) {
            return response;
        }
        if (reply instanceof Status status) {
            throw new ExtProcException("the ext_proc stream failed: " + status.getCode()
                    + (status.getDescription() == null ? "" : " - " + status.getDescription())
                    + (status.getCause() == null ? "" : " (" + status.getCause() + ")"));
        }
        throw new ExtProcException("the EPP closed the ext_proc stream before replying");
    }

    /** Ends our side of the stream normally (the HTTP request is complete). */
    synchronized void finish() {
        if (!closed) {
            closed = true;
            requests.onCompleted();
        }
    }

    /** Resets the stream, as Envoy does when the downstream or upstream connection goes away. */
    synchronized void cancel(String reason) {
        if (!closed) {
            closed = true;
            requests.cancel(reason, null);
        }
    }

    /** The EPP could not be used for this request: unreachable, failed, timed out, or broke the protocol. */
    static final class ExtProcException extends RuntimeException {
        ExtProcException(String message) {
            super(message, null, false, false);
        }
    }
}
