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

    EngineMetadata fetch(RemoteEngine remote) {
        ZMQ.Socket socket = zmq.createSocket(SocketType.REQ);
        try {
            socket.setLinger(0);
            int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
            socket.setReceiveTimeOut(millis);
            socket.setSendTimeOut(millis);
            socket.connect(remote.zmqAddress());
            if (!socket.send(EngineMetadata.encodeRequest(0))) {
                throw new KvTransferException.HandshakeFailed("handshake with " + remote
                        + ": could not send the request within " + timeout, null);
            }
            byte[] reply = socket.recv();
            if (reply == null) {
                throw new KvTransferException.HandshakeFailed("handshake with " + remote + ": no reply from "
                        + remote.zmqAddress() + " within " + timeout
                        + " (is the prefill engine's side channel listening there?)", null);
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
