package dev.lodestar.kvconnector.transfer;

import java.time.Duration;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

/** The decode side of the handshake: one ZeroMQ REQ round trip per call, bounded by a timeout. */
final class HandshakeClient {

    private final ZContext zmq;
    private final Duration timeout;
    private final int expectedBlockBytes;

    HandshakeClient(ZContext zmq, Duration timeout, int expectedBlockBytes) {
        this.zmq = zmq;
        this.timeout = timeout;
        this.expectedBlockBytes = expectedBlockBytes;
    }

    /** Up to {@value #ATTEMPT_MILLIS} ms per attempt, new socket each time, until the timeout: about 1 in 6
     *  first requests on a fresh jeromq connection went unanswered here (cause not found), a second one is. */
    static final long ATTEMPT_MILLIS = 1_000;

    EngineMetadata fetch(RemoteEngine remote) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            boolean last = left <= ATTEMPT_MILLIS;
            try {
                return attempt(remote, Math.max(1, Math.min(left, ATTEMPT_MILLIS)));
            } catch (NoReply e) {
                if (last) {
                    throw new KvTransferException.HandshakeFailed("handshake with " + remote + ": no reply from "
                            + remote.zmqAddress() + " within " + timeout
                            + " (is the prefill engine's side channel listening there?)", null);
                }
            }
        }
    }

    private static final class NoReply extends Exception {
        NoReply() {
            super(null, null, false, false);
        }
    }

    private EngineMetadata attempt(RemoteEngine remote, long attemptMillis) throws NoReply {
        ZMQ.Socket socket = zmq.createSocket(SocketType.REQ);
        try {
            socket.setLinger(0);
            int millis = (int) attemptMillis;
            socket.setReceiveTimeOut(millis);
            socket.setSendTimeOut(millis);
            socket.connect(remote.zmqAddress());
            if (!socket.send(EngineMetadata.encodeRequest(0))) {
                throw new KvTransferException.HandshakeFailed("handshake with " + remote
                        + ": could not send the request within " + timeout, null);
            }
            byte[] reply = socket.recv();
            if (reply == null) {
                throw new NoReply();
            }
            EngineMetadata md;
            try {
                md = EngineMetadata.decodePayload(reply, expectedBlockBytes);
            } catch (IllegalArgumentException e) {
                throw new KvTransferException.HandshakeFailed("handshake with " + remote + ": " + e.getMessage(), e);
            }
            if (!md.engineId().equals(remote.engineId())) {
                throw new KvTransferException.HandshakeFailed("handshake with " + remote + ": the engine at "
                        + remote.host() + ":" + remote.port() + " is '" + md.engineId() + "', not '"
                        + remote.engineId() + "'", null);
            }
            return md;
        } catch (ZMQException e) {
            throw new KvTransferException.HandshakeFailed("handshake with " + remote + ": " + e.getMessage(), e);
        } finally {
            zmq.destroySocket(socket);
        }
    }
}
