package dev.lodestar.kvconnector.transfer;

import static dev.lodestar.kvconnector.transfer.UcxTestSupport.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lodestar.kvconnector.transfer.KvBlockAllocator.Release;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/** Two engines in one JVM over real UCX (Debian libucx0): TCP with peer-failure detection (the default), and
 *  shared memory without it. */
class KvTransferEngineTest {

    private final List<KvTransferEngine> engines = new ArrayList<>();

    @BeforeEach
    void ucx() {
        UcxTestSupport.requireUcx();
    }

    @AfterEach
    void closeEngines() {
        Collections.reverse(engines);
        engines.forEach(KvTransferEngine::close);
    }

    private KvTransferEngine engine(KvTransferConfig.Builder builder) {
        KvTransferEngine e = KvTransferEngine.start(builder.build());
        engines.add(e);
        return e;
    }

    private KvTransferEngine engine(int blockBytes, int numBlocks) {
        return engine(KvTransferConfig.builder(KvBlockLayout.of(blockBytes, numBlocks)));
    }

    /** Prefill role: allocate, fill with the request's pattern, pin. */
    private static Prefilled prefill(KvTransferEngine engine, String requestId, int blocks) {
        List<Integer> ids = engine.allocator().allocate(blocks);
        for (int i = 0; i < ids.size(); i++) {
            BlockPattern.fill(engine.block(ids.get(i)), BlockPattern.seed(requestId, i));
        }
        return new Prefilled(requestId, ids, engine.allocator().pin(requestId, ids));
    }

    private record Prefilled(String requestId, List<Integer> blockIds, CompletableFuture<Release> released) {
    }

    private static void assertPattern(KvTransferEngine engine, List<Integer> localIds, String requestId, int firstIndex) {
        for (int i = 0; i < localIds.size(); i++) {
            OptionalLong mismatch = BlockPattern.firstMismatch(engine.block(localIds.get(i)),
                    BlockPattern.seed(requestId, firstIndex + i));
            assertThat(mismatch).as("local block %d (request %s, index %d)", localIds.get(i), requestId, firstIndex + i)
                    .isEmpty();
        }
    }

    private static void assertNoLeaks(KvTransferEngine decode) {
        eventually(() -> "decode engine holds no UCX resources: " + decode.resources(), () -> {
            KvTransferEngine.Resources r = decode.resources();
            return r.endpoints() == 0 && r.remoteKeys() == 0 && r.inflightRequests() == 0 && r.activePulls() == 0
                    && r.cachedPeers() == 0;
        });
    }

    @Test
    void manyBlocksArrivePulledInAnyOrderByteForByteAndTheNotificationFreesThem() throws Exception {
        KvTransferEngine prefill = engine(16 * 1024, 600);
        KvTransferEngine decode = engine(16 * 1024, 600);
        Prefilled p = prefill(prefill, "req-many", 512);
        List<Integer> local = new ArrayList<>(decode.allocator().allocate(512));
        Collections.reverse(local);

        PullResult result = decode.pull(PullRequest.builder(prefill.sideChannel(), "req-many")
                .blocks(p.blockIds(), local).build());

        assertThat(result.blocks()).isEqualTo(512);
        assertThat(result.bytes()).isEqualTo(512L * 16 * 1024);
        assertThat(result.gets()).isEqualTo(512);
        assertThat(result.handshake()).isTrue();
        assertThat(result.handshake()).isTrue();
        assertPattern(decode, local, "req-many", 0);
        assertThat(p.released().get(15, TimeUnit.SECONDS)).isEqualTo(Release.NOTIFIED);
        assertThat(prefill.allocator().freeBlocks()).isEqualTo(600);
        assertThat(prefill.allocator().pinned("req-many")).isEmpty();
    }

    @Test
    void sharedMemoryWithoutPeerFailureDetectionMovesTheSameBytesInOneGetPerContiguousRun() throws Exception {
        KvTransferEngine prefill = engine(KvTransferConfig.builder(KvBlockLayout.of(64 * 1024, 256))
                .peerFailureDetection(false));
        KvTransferEngine decode = engine(KvTransferConfig.builder(KvBlockLayout.of(64 * 1024, 256))
                .peerFailureDetection(false));
        Prefilled p = prefill(prefill, "req-shm", 200);
        List<Integer> local = decode.allocator().allocate(200);

        PullResult result = decode.pull(PullRequest.builder(prefill.sideChannel(), "req-shm")
                .blocks(p.blockIds(), local).build());

        assertThat(result.gets()).isEqualTo(1);
        assertThat(result.bytes()).isEqualTo(200L * 64 * 1024);
        assertPattern(decode, local, "req-shm", 0);
        assertThat(p.released().get(15, TimeUnit.SECONDS)).isEqualTo(Release.NOTIFIED);
    }

    @Test
    void aPartialPullCopiesOnlyTheBlocksTheDecoderLacks() throws Exception {
        KvTransferEngine prefill = engine(8 * 1024, 64);
        KvTransferEngine decode = engine(8 * 1024, 64);
        Prefilled p = prefill(prefill, "req-partial", 10);
        List<Integer> local = decode.allocator().allocate(10);
        // The decoder has the first 6 blocks (prefix-cache hit): it pulls the last 4 only.
        PullResult result = decode.pull(PullRequest.builder(prefill.sideChannel(), "req-partial")
                .blocks(p.blockIds().subList(6, 10), local.subList(6, 10)).build());

        assertThat(result.blocks()).isEqualTo(4);
        assertPattern(decode, local.subList(6, 10), "req-partial", 6);
        for (int id : local.subList(0, 6)) {
            ByteBuffer b = decode.block(id);
            assertThat(IntStream.range(0, b.limit()).allMatch(i -> b.get(i) == 0)).as("block %d untouched", id).isTrue();
        }
        assertThat(p.released().get(15, TimeUnit.SECONDS)).isEqualTo(Release.NOTIFIED);
    }

    @Test
    void aPullWithNoBlocksOnlyNotifies() throws Exception {
        KvTransferEngine prefill = engine(8 * 1024, 16);
        KvTransferEngine decode = engine(8 * 1024, 16);
        Prefilled p = prefill(prefill, "req-full-hit", 3);

        PullResult result = decode.pull(PullRequest.builder(prefill.sideChannel(), "req-full-hit").build());

        assertThat(result.blocks()).isZero();
        assertThat(result.gets()).isZero();
        assertThat(p.released().get(15, TimeUnit.SECONDS)).isEqualTo(Release.NOTIFIED);
    }

    @Test
    void concurrentPullsFromSeveralThreadsShareOneHandshakeAndAllArriveIntact() throws Exception {
        KvTransferEngine prefill = engine(32 * 1024, 256);
        KvTransferEngine decode = engine(32 * 1024, 256);
        int requests = 8;
        List<Prefilled> prefilled = new ArrayList<>();
        List<List<Integer>> locals = new ArrayList<>();
        for (int r = 0; r < requests; r++) {
            prefilled.add(prefill(prefill, "req-c" + r, 24));
            locals.add(decode.allocator().allocate(24));
        }
        List<CompletableFuture<PullResult>> pulls = new ArrayList<>();
        for (int r = 0; r < requests; r++) {
            Prefilled p = prefilled.get(r);
            pulls.add(decode.pullAsync(PullRequest.builder(prefill.sideChannel(), p.requestId())
                    .blocks(p.blockIds(), locals.get(r)).build()));
        }
        CompletableFuture.allOf(pulls.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

        assertThat(pulls.stream().filter(f -> f.join().handshake()).count()).isEqualTo(1);
        for (int r = 0; r < requests; r++) {
            assertPattern(decode, locals.get(r), "req-c" + r, 0);
            assertThat(prefilled.get(r).released().get(15, TimeUnit.SECONDS)).isEqualTo(Release.NOTIFIED);
        }
        assertThat(decode.resources().endpoints()).isEqualTo(1);
        assertThat(decode.resources().cachedPeers()).isEqualTo(1);
    }

    @Test
    void aPeerThatDiesMidPullFailsThePullAndLeavesNothingBehind() {
        // 128 separate gets = 4 chunks; at most 2 are in flight, so the last ones go to a dead peer.
        KvTransferEngine prefill = engine(64 * 1024, 128);
        KvTransferEngine decode = engine(64 * 1024, 128);
        Prefilled p = prefill(prefill, "req-dies", 128);
        List<Integer> local = new ArrayList<>(decode.allocator().allocate(128));
        Collections.reverse(local);
        int[] seenWhenKilled = {-1};

        PullRequest request = PullRequest.builder(prefill.sideChannel(), "req-dies").blocks(p.blockIds(), local)
                .progress((done, total) -> {
                    if (seenWhenKilled[0] < 0) {
                        // Runs on the decode engine's progress thread, so no further get completes until the
                        // prefill engine is gone.
                        seenWhenKilled[0] = done;
                        prefill.close();
                    }
                }).build();

        assertThatThrownBy(() -> decode.pull(request))
                .isInstanceOf(KvTransferException.PeerFailed.class)
                .hasMessageContaining("req-dies")
                .hasMessageContaining(prefill.engineId());
        assertThat(seenWhenKilled[0]).isBetween(1, 96);
        assertNoLeaks(decode);
    }

    @Test
    void aPullPastItsDeadlineTimesOutAfterItsGetsLandAndTheConnectionServesTheNextPull() throws Exception {
        KvTransferEngine prefill = engine(64 * 1024, 32);
        KvTransferEngine decode = engine(64 * 1024, 32);
        Prefilled p = prefill(prefill, "req-slow", 8);
        List<Integer> local = new ArrayList<>(decode.allocator().allocate(8));
        Collections.reverse(local);
        Duration timeout = Duration.ofMillis(200);
        long[] firstBlockAt = {0};

        PullRequest slow = PullRequest.builder(prefill.sideChannel(), "req-slow").blocks(p.blockIds(), local)
                .timeout(timeout)
                .progress((done, total) -> {
                    if (firstBlockAt[0] == 0) {
                        // A stalled transfer: hold the progress thread past the pull's deadline.
                        firstBlockAt[0] = System.nanoTime();
                        while (System.nanoTime() - firstBlockAt[0] < timeout.toNanos()) {
                            Thread.onSpinWait();
                        }
                    }
                }).build();

        assertThatThrownBy(() -> decode.pull(slow))
                .isInstanceOf(KvTransferException.PullTimedOut.class)
                .hasMessageContaining("req-slow")
                .hasMessageContaining("PT0.2S");
        eventually(() -> "nothing in flight: " + decode.resources(), () -> decode.resources().inflightRequests() == 0
                && decode.resources().activePulls() == 0);
        assertThat(decode.resources().endpoints()).isEqualTo(1);
        assertThat(prefill.allocator().pinned("req-slow")).isPresent();

        PullResult again = decode.pull(PullRequest.builder(prefill.sideChannel(), "req-slow")
                .blocks(p.blockIds(), local).build());
        assertThat(again.handshake()).isFalse();
        assertPattern(decode, local, "req-slow", 0);
        assertThat(p.released().get(15, TimeUnit.SECONDS)).isEqualTo(Release.NOTIFIED);
    }

    @Test
    void pinnedBlocksAreFreedAfterThePinTimeoutWithoutANotification() throws Exception {
        KvTransferEngine prefill = engine(KvTransferConfig.builder(KvBlockLayout.of(4096, 16))
                .pinTimeout(Duration.ofMillis(150)));
        Prefilled p = prefill(prefill, "req-abandoned", 5);
        assertThat(prefill.allocator().freeBlocks()).isEqualTo(11);

        assertThat(p.released().get(15, TimeUnit.SECONDS)).isEqualTo(Release.TIMED_OUT);
        assertThat(prefill.allocator().freeBlocks()).isEqualTo(16);
        assertThat(prefill.allocator().pinned("req-abandoned")).isEmpty();
    }

    @Test
    void handshakeWithNothingListeningFailsClearlyAndCachesNothing() throws Exception {
        KvTransferEngine decode = engine(KvTransferConfig.builder(KvBlockLayout.of(4096, 16))
                .handshakeTimeout(Duration.ofMillis(300)));
        int port;
        try (var s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        RemoteEngine nobody = new RemoteEngine("ghost", "127.0.0.1", port);

        assertThatThrownBy(() -> decode.pull(PullRequest.builder(nobody, "req-x").blocks(List.of(0), List.of(0)).build()))
                .isInstanceOf(KvTransferException.HandshakeFailed.class)
                .hasMessageContaining("no reply")
                .hasMessageContaining("127.0.0.1:" + port);
        assertNoLeaks(decode);
    }

    @Test
    void handshakeWithTheWrongEngineIdOrBlockSizeFails() {
        KvTransferEngine prefill = engine(4096, 16);
        KvTransferEngine otherBlockSize = engine(8192, 16);
        KvTransferEngine decode = engine(4096, 16);
        RemoteEngine wrongId = new RemoteEngine("not-" + prefill.engineId(), "127.0.0.1", prefill.sideChannel().port());

        assertThatThrownBy(() -> decode.pull(PullRequest.builder(wrongId, "r").blocks(List.of(0), List.of(0)).build()))
                .isInstanceOf(KvTransferException.HandshakeFailed.class)
                .hasMessageContaining("is '" + prefill.engineId() + "'");
        assertThatThrownBy(() -> decode.pull(PullRequest.builder(otherBlockSize.sideChannel(), "r")
                .blocks(List.of(0), List.of(0)).build()))
                .isInstanceOf(KvTransferException.HandshakeFailed.class)
                .hasMessageContaining("8192 bytes");
        assertNoLeaks(decode);
    }

    @Test
    void aSideChannelThatAnswersGarbageFailsTheHandshake() {
        KvTransferEngine decode = engine(4096, 16);
        try (ZContext zmq = new ZContext()) {
            ZMQ.Socket rep = zmq.createSocket(SocketType.REP);
            int port = rep.bindToRandomPort("tcp://127.0.0.1");
            Thread server = Thread.ofPlatform().start(() -> {
                rep.recv();
                rep.send(new byte[] {(byte) 0xc1});
            });
            RemoteEngine garbage = new RemoteEngine("garbage", "127.0.0.1", port);

            assertThatThrownBy(() -> decode.pull(PullRequest.builder(garbage, "r").build()))
                    .isInstanceOf(KvTransferException.HandshakeFailed.class)
                    .hasMessageContaining("not msgpack");
            assertThat(server).satisfies(t -> t.join(5_000));
        }
        assertNoLeaks(decode);
    }

    @Test
    void badBlockIdsAreRejectedBeforeAnythingMoves() {
        KvTransferEngine prefill = engine(4096, 16);
        KvTransferEngine decode = engine(4096, 8);
        Prefilled p = prefill(prefill, "req-bad", 4);
        RemoteEngine remote = prefill.sideChannel();

        assertThatThrownBy(() -> decode.pull(PullRequest.builder(remote, "req-bad")
                .blocks(List.of(0, 1), List.of(0)).build()))
                .isInstanceOf(KvTransferException.BadBlockIds.class).hasMessageContaining("2 remote block ids but 1");
        assertThatThrownBy(() -> decode.pull(PullRequest.builder(remote, "req-bad")
                .blocks(List.of(0), List.of(8)).build()))
                .isInstanceOf(KvTransferException.BadBlockIds.class).hasMessageContaining("local block 8 out of range");
        assertThatThrownBy(() -> decode.pull(PullRequest.builder(remote, "req-bad")
                .blocks(List.of(0, 1), List.of(3, 3)).build()))
                .isInstanceOf(KvTransferException.BadBlockIds.class).hasMessageContaining("appears twice");
        assertThatThrownBy(() -> decode.pull(PullRequest.builder(remote, "req-bad")
                .blocks(List.of(16), List.of(0)).build()))
                .isInstanceOf(KvTransferException.BadBlockIds.class).hasMessageContaining("remote block 16 out of range");
        assertThatThrownBy(() -> decode.pull(PullRequest.builder(remote, "req-bad")
                .blocks(List.of(-1), List.of(0)).build()))
                .isInstanceOf(KvTransferException.BadBlockIds.class);

        assertThat(prefill.allocator().pinned("req-bad")).contains(p.blockIds());
        assertThat(decode.resources().activePulls()).isZero();
        assertThat(decode.resources().inflightRequests()).isZero();
    }

    @Test
    void closingAnEngineFreesItsPinsAndRefusesNewPulls() throws Exception {
        KvTransferEngine prefill = KvTransferEngine.start(KvTransferConfig.builder(KvBlockLayout.of(4096, 8)).build());
        Prefilled p = prefill(prefill, "req-open", 2);
        RemoteEngine remote = prefill.sideChannel();
        prefill.close();
        prefill.close();

        assertThat(p.released().get(5, TimeUnit.SECONDS)).isEqualTo(Release.ENGINE_CLOSED);
        assertThatThrownBy(() -> prefill.pull(PullRequest.builder(remote, "r").build()))
                .isInstanceOf(KvTransferException.EngineClosed.class);
        assertThatThrownBy(() -> prefill.block(0)).isInstanceOf(KvTransferException.EngineClosed.class);
    }
}
