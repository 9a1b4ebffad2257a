package dev.lodestar.kvconnector.transfer;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A prefill engine in its own process, for {@link KvTransferTwoProcessIT}: pins {@code requests} requests of
 * {@code blocks-per-request} pattern-filled blocks, prints {@code PINNED <id> <block,ids>} for each and then
 * {@code READY <engine-id> <port>}, prints {@code RELEASED <id> <why>} as pins are freed, and exits when its
 * standard input closes. Arguments: block-bytes num-blocks requests blocks-per-request transports|- detection.
 */
public final class KvTransferPeerMain {

    private KvTransferPeerMain() {
    }

    public static void main(String[] args) throws Exception {
        int blockBytes = Integer.parseInt(args[0]);
        int numBlocks = Integer.parseInt(args[1]);
        int requests = Integer.parseInt(args[2]);
        int blocksPerRequest = Integer.parseInt(args[3]);
        KvTransferConfig.Builder config = KvTransferConfig.builder(KvBlockLayout.of(blockBytes, numBlocks))
                .peerFailureDetection(Boolean.parseBoolean(args[5]));
        if (!args[4].equals("-")) {
            config.transports(args[4]);
        }
        try (KvTransferEngine engine = KvTransferEngine.start(config.build())) {
            for (int r = 0; r < requests; r++) {
                String id = "req-" + r;
                List<Integer> ids = engine.allocator().allocate(blocksPerRequest);
                for (int i = 0; i < ids.size(); i++) {
                    BlockPattern.fill(engine.block(ids.get(i)), BlockPattern.seed(id, i));
                }
                engine.allocator().pin(id, ids).thenAccept(why -> say("RELEASED " + id + " " + why));
                say("PINNED " + id + " " + ids.stream().map(String::valueOf).collect(Collectors.joining(",")));
            }
            say("READY " + engine.engineId() + " " + engine.sideChannel().port());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (in.readLine() != null) {
                // Runs until the test closes our standard input (or kills us).
            }
        }
    }

    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
