package dev.lodestar.kvconnector.transfer;

/**
 * Where a prefill engine's side channel is: what the prefill response's {@code kv_transfer_params} carry as
 * {@code remote_engine_id}, {@code remote_host} and {@code remote_port}.
 */
public record RemoteEngine(String engineId, String host, int port) {

    public RemoteEngine {
        if (engineId.isBlank()) {
            throw new IllegalArgumentException("remote engine id is blank");
        }
        if (host.isBlank()) {
            throw new IllegalArgumentException("remote host is blank");
        }
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("remote port out of range: " + port);
        }
    }

    String zmqAddress() {
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return "tcp://" + h + ":" + port;
    }

    @Override
    public String toString() {
        return engineId + "@" + host + ":" + port;
    }
}
