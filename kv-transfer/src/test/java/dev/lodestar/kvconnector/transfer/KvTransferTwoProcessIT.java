package dev.lodestar.kvconnector.transfer;

import static dev.lodestar.kvconnector.transfer.UcxTestSupport.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The prefill engine in a second JVM ({@link KvTransferPeerMain}), the decode engine here. */
class KvTransferTwoProcessIT {

    private final List<Process> processes = new ArrayList<>();
    private final List<KvTransferEngine> engines = new ArrayList<>();

    @BeforeEach
    void ucx() {
        UcxTestSupport.requireUcx();
    }

    @AfterEach
    void stop() throws Exception {
        engines.forEach(KvTransferEngine::close);
        for (Process p : processes) {
            p.getOutputStream().close();
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    private record Peer(Process process, RemoteEngine remote, Map<String, List<Integer>> pinned,
                        LinkedBlockingQueue<String> lines) {
        void expectLine(String line) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (System.nanoTime() < deadline) {
                String next = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (line.equals(next)) {
                    return;
                }
            }
            fail("the peer process did not print '" + line + "' within 15 s");
        }
    }

    private Peer startPeer(int blockBytes, int numBlocks, int requests, int blocksPerRequest, String transports,
                           boolean detection) throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", classpath, KvTransferPeerMain.class.getName(),
                Integer.toString(blockBytes), Integer.toString(numBlocks), Integer.toString(requests),
                Integer.toString(blocksPerRequest), transports, Boolean.toString(detection));
        pb.environment().put("UCX_LOG_LEVEL", "error");
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process process = pb.start();
        processes.add(process);
        LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (Exception ignored) {
                // The process ended.
            }
        });
        Map<String, List<Integer>> pinned = new LinkedHashMap<>();
        while (true) {
            String line = lines.poll(30, TimeUnit.SECONDS);
            if (line == null) {
                fail("the peer process did not get ready within 30 s (alive: " + process.isAlive() + ")");
            }
            String[] f = line.split(" ");
            if (f[0].equals("PINNED")) {
                pinned.put(f[1], Arrays.stream(f[2].split(",")).map(Integer::valueOf).toList());
            } else if (f[0].equals("READY")) {
                return new Peer(process, new RemoteEngine(f[1], "127.0.0.1", Integer.parseInt(f[2])), pinned, lines);
            }
        }
    }

    private KvTransferEngine decode(KvTransferConfig.Builder builder) {
        KvTransferEngine e = KvTransferEngine.start(builder.build());
        engines.add(e);
        return e;
    }

    private void pullEverythingAndVerify(String transports, boolean detection) throws Exception {
        Peer peer = startPeer(64 * 1024, 400, 6, 50, transports, detection);
        KvTransferConfig.Builder config = KvTransferConfig.builder(KvBlockLayout.of(64 * 1024, 400))
                .peerFailureDetection(detection);
        if (!transports.equals("-")) {
            config.transports(transports);
        }
        KvTransferEngine decode = decode(config);
        for (var e : peer.pinned().entrySet()) {
            List<Integer> local = new ArrayList<>(decode.allocator().allocate(e.getValue().size()));
            Collections.shuffle(local, new java.util.Random(e.getKey().hashCode()));
            PullResult result = decode.pull(PullRequest.builder(peer.remote(), e.getKey()).blocks(e.getValue(), local).build());
            assertThat(result.blocks()).isEqualTo(50);
            for (int i = 0; i < local.size(); i++) {
                OptionalLong mismatch = BlockPattern.firstMismatch(decode.block(local.get(i)), BlockPattern.seed(e.getKey(), i));
                assertThat(mismatch).as("%s block %d", e.getKey(), i).isEmpty();
            }
            peer.expectLine("RELEASED " + e.getKey() + " NOTIFIED");
            decode.allocator().free(local);
        }
    }

    @Test
    void pullsFromAnotherProcessOverSharedMemory() throws Exception {
        pullEverythingAndVerify("-", false);
    }

    @Test
    void pullsFromAnotherProcessOverTcpWithPeerFailureDetection() throws Exception {
        pullEverythingAndVerify("tcp", true);
    }

    @Test
    void aPeerProcessKilledMidPullFailsThePullAndLeavesNothingBehind() throws Exception {
        Peer peer = startPeer(256 * 1024, 128, 1, 128, "-", true);
        KvTransferEngine decode = decode(KvTransferConfig.builder(KvBlockLayout.of(256 * 1024, 128)));
        List<Integer> remote = peer.pinned().get("req-0");
        List<Integer> local = new ArrayList<>(decode.allocator().allocate(128));
        Collections.reverse(local);
        int[] doneWhenKilled = {-1};

        PullRequest request = PullRequest.builder(peer.remote(), "req-0").blocks(remote, local)
                .progress((done, total) -> {
                    if (doneWhenKilled[0] < 0) {
                        // On the decode progress thread: nothing more completes until the peer is dead.
                        doneWhenKilled[0] = done;
                        peer.process().destroyForcibly();
                        try {
                            peer.process().waitFor();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }).build();

        assertThatThrownBy(() -> decode.pull(request))
                .isInstanceOf(KvTransferException.PeerFailed.class)
                .hasMessageContaining("req-0");
        assertThat(doneWhenKilled[0]).isBetween(1, 96);
        eventually(() -> "decode engine holds no UCX resources: " + decode.resources(), () -> {
            KvTransferEngine.Resources r = decode.resources();
            return r.endpoints() == 0 && r.remoteKeys() == 0 && r.inflightRequests() == 0 && r.activePulls() == 0
                    && r.cachedPeers() == 0;
        });
    }
}
