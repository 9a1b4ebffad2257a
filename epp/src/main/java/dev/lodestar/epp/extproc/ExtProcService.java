package dev.lodestar.epp.extproc;

import dev.lodestar.epp.requestcontrol.Director;
import dev.lodestar.epp.requestcontrol.RequestRecorder;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import java.util.Objects;

/**
 * {@code envoy.service.ext_proc.v3.ExternalProcessor/Process}: one bidirectional stream per HTTP request,
 * handled by a {@link RequestStream}. A thin adapter: every decision is the {@link Director}'s.
 */
public final class ExtProcService extends ExternalProcessorGrpc.ExternalProcessorImplBase {
    private final Director director;
    private final RequestRecorder recorder;

    public ExtProcService(Director director, RequestRecorder recorder) {
        this.director = Objects.requireNonNull(director, "director");
        this.recorder = Objects.requireNonNull(recorder, "recorder");
    }

    @Override
    public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> responses) {
        return new RequestStream(director, recorder, ResponseSender.of(responses));
    }

    /**
     * Sends responses respecting the transport's flow control: while the call is not ready, responses
     * queue and go out from the on-ready callback, so a slow proxy does not make the EPP buffer without
     * bound in the transport.
     */
    static final class ResponseSender {
        private final StreamObserver<ProcessingResponse> observer;
        private final ServerCallStreamObserver<ProcessingResponse> flowControlled;
        private final java.util.ArrayDeque<ProcessingResponse> pending = new java.util.ArrayDeque<>();
        private final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
        private boolean completed;
        private Throwable failure;

        private ResponseSender(StreamObserver<ProcessingResponse> observer) {
            this.observer = observer;
            this.flowControlled = observer instanceof ServerCallStreamObserver<ProcessingResponse> call ? call : null;
            if (flowControlled != null) {
                flowControlled.setOnReadyHandler(this::drain);
            }
        }

        static ResponseSender of(StreamObserver<ProcessingResponse> observer) {
            return new ResponseSender(observer);
        }

        boolean cancelled() {
            return flowControlled != null && flowControlled.isCancelled();
        }

        void send(ProcessingResponse response) {
            lock.lock();
            try {
                pending.add(response);
            } finally {
                lock.unlock();
            }
            drain();
        }

        /** Ends the stream successfully once everything queued is out. */
        void complete() {
            lock.lock();
            try {
                completed = true;
            } finally {
                lock.unlock();
            }
            drain();
        }

        /** Ends the stream with a gRPC error once everything queued is out. */
        void fail(Throwable error) {
            lock.lock();
            try {
                failure = error;
            } finally {
                lock.unlock();
            }
            drain();
        }

        private void drain() {
            lock.lock();
            try {
                while (!pending.isEmpty() && (flowControlled == null || flowControlled.isReady())) {
                    observer.onNext(pending.poll());
                }
                if (!pending.isEmpty()) {
                    return;
                }
                if (failure != null) {
                    Throwable error = failure;
                    failure = null;
                    completed = false;
                    observer.onError(error);
                } else if (completed) {
                    completed = false;
                    observer.onCompleted();
                }
            } catch (RuntimeException e) {
                // The call is gone (cancelled or closed); nothing more can be sent.
                pending.clear();
            } finally {
                lock.unlock();
            }
        }
    }
}
