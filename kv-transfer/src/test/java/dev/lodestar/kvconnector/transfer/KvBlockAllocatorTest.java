package dev.lodestar.kvconnector.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lodestar.kvconnector.transfer.KvBlockAllocator.Release;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class KvBlockAllocatorTest {

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    private KvBlockAllocator allocator(int blocks, Duration pinTimeout) {
        return new KvBlockAllocator(blocks, pinTimeout, timer);
    }

    @Test
    void allocatesLowestFreeIdsAndRefusesMoreThanIsFree() {
        KvBlockAllocator a = allocator(8, Duration.ofMinutes(1));
        assertThat(a.allocate(3)).containsExactly(0, 1, 2);
        a.free(List.of(1));
        assertThat(a.allocate(2)).containsExactly(1, 3);
        assertThatThrownBy(() -> a.allocate(5)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("need 5 blocks, 4 of 8 are free");
        assertThatThrownBy(() -> a.free(List.of(7))).hasMessageContaining("block 7 is not allocated");
    }

    @Test
    void aPinIsReleasedByTheExpectedNumberOfNotifications() throws Exception {
        KvBlockAllocator a = allocator(8, Duration.ofMinutes(1));
        List<Integer> ids = a.allocate(4);
        CompletableFuture<Release> released = a.pin("req-1", ids, 2);
        assertThatThrownBy(() -> a.free(ids)).hasMessageContaining("is pinned");

        a.notified(new Notification("req-1", 2));
        assertThat(released).isNotDone();
        assertThat(a.freeBlocks()).isEqualTo(4);
        a.notified(new Notification("req-1", 2));

        assertThat(released.get(1, TimeUnit.SECONDS)).isEqualTo(Release.NOTIFIED);
        assertThat(a.freeBlocks()).isEqualTo(8);
        assertThat(a.pinnedRequests()).isZero();
    }

    @Test
    void notificationsForUnknownRequestsChangeNothing() {
        KvBlockAllocator a = allocator(4, Duration.ofMinutes(1));
        a.pin("req-1", a.allocate(2));
        a.notified(new Notification("req-2", 1));
        assertThat(a.pinned("req-1")).contains(List.of(0, 1));
        assertThat(a.freeBlocks()).isEqualTo(2);
    }

    @Test
    void aPinWithoutNotificationIsReleasedByTheTimeout() throws Exception {
        KvBlockAllocator a = allocator(4, Duration.ofMillis(50));
        CompletableFuture<Release> released = a.pin("req-1", a.allocate(3));
        assertThat(released.get(10, TimeUnit.SECONDS)).isEqualTo(Release.TIMED_OUT);
        assertThat(a.freeBlocks()).isEqualTo(4);
        // A late notification is ignored.
        a.notified(new Notification("req-1", 1));
        assertThat(a.freeBlocks()).isEqualTo(4);
    }

    @Test
    void pinsAreCheckedAndCloseReleasesThem() throws Exception {
        KvBlockAllocator a = allocator(4, Duration.ofMinutes(1));
        List<Integer> ids = a.allocate(2);
        assertThatThrownBy(() -> a.pin("r", List.of(3))).hasMessageContaining("block 3 is not allocated");
        CompletableFuture<Release> released = a.pin("r", ids);
        assertThatThrownBy(() -> a.pin("r", ids)).hasMessageContaining("already pinned");

        a.close();

        assertThat(released.get(1, TimeUnit.SECONDS)).isEqualTo(Release.ENGINE_CLOSED);
        assertThatThrownBy(() -> a.allocate(1)).isInstanceOf(KvTransferException.EngineClosed.class);
    }
}
