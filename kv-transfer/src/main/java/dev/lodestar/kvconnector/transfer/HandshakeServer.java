package dev.lodestar.kvconnector.transfer;

import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;
import org.zeromq.ZMsg;

/**
 * The prefill side's side channel: a ZeroMQ ROUTER (vLLM's {@code nixl_handshake_listener}) that answers each
 * {@code ["get_meta_msg", rank]} with the engine's metadata, and anything else with {@code {error: ...}} (no
 * request goes unanswered). One thread; the metadata is encoded once.
 */
final class HandshakeServer implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(HandshakeServer.class.getName());
    private static final int POLL_MILLIS = 100;

    private final ZContext zmq;
    private final ZMQ.Socket socket;
    private final int port;
    private final byte[] reply;
    private final Thread thread;
    private volatile boolean running = true;

    HandshakeServer(ZContext zmq, String host, int port, Supplier<byte[]> reply, String engineId) {
        this.zmq = zmq;
        this.reply = reply.get();
        this.socket = zmq.createSocket(SocketType.ROUTER);
        socket.setLinger(0);
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        try {
            // "*" lets the kernel pick a free ephemeral port; jeromq's bindToRandomPort guesses ports and, with
            // SO_REUSEADDR, can land on one another socket (e.g. UCX's TCP transport) is using.
            socket.bind("tcp://" + h + ":" + (port == 0 ? "*" : Integer.toString(port)));
            String endpoint = socket.getLastEndpoint();
            this.port = Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
        } catch (ZMQException e) {
            zmq.destroySocket(socket);
            throw new IllegalStateException("cannot bind the handshake side channel on " + host + ":" + port
                    + ": " + e.getMessage(), e);
        }
        this.thread = Thread.ofPlatform().daemon().name("kv-handshake-" + engineId).start(this::serve);
    }

    int port() {
        return port;
    }

    private void serve() {
        ZMQ.Poller poller = zmq.createPoller(1);
        poller.register(socket, ZMQ.Poller.POLLIN);
        while (running) {
            ZMsg msg;
            try {
                if (poller.poll(POLL_MILLIS) <= 0 || !poller.pollin(0)) {
                    continue;
                }
                msg = ZMsg.recvMsg(socket, ZMQ.DONTWAIT);
            } catch (ZMQException e) {
                if (running) {
                    LOG.log(Level.WARNING, "handshake side channel receive failed", e);
                }
                break;
            }
            if (msg == null) {
                continue;
            }
            // ROUTER frames from a REQ peer: [identity, empty delimiter, request].
            if (msg.size() < 3) {
                LOG.warning(() -> "handshake side channel: dropped a message of " + msg.size()
                        + " frames (not from a REQ socket, so it cannot be answered)");
                msg.destroy();
                continue;
            }
            byte[] identity = msg.pop().getData();
            msg.pop();
            byte[] request = msg.pop().getData();
            msg.destroy();
            byte[] answer = EngineMetadata.checkRequest(request)
                    .map(problem -> {
                        LOG.warning(() -> "handshake side channel: bad request: " + problem);
                        return EngineMetadata.encodeError("bad handshake request: " + problem);
                    })
                    .orElse(reply);
            ZMsg out = new ZMsg();
            out.add(identity);
            out.add(new byte[0]);
            out.add(answer);
            out.send(socket);
        }
        poller.close();
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        zmq.destroySocket(socket);
    }
}
