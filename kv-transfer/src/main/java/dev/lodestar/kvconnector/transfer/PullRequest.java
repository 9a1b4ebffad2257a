package dev.lodestar.kvconnector.transfer;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One pull: copy the remote engine's blocks {@code remoteBlockIds[i]} into the local blocks
 * {@code localBlockIds[i]}, then notify the remote engine ({@code <remoteRequestId>:<consumers>}) so it can
 * free them. Pass only the blocks the decode side lacks (for a partial prefix hit, the last N remote ids);
 * with no blocks at all, the pull only notifies.
 *
 * @param remote          the prefill engine
 * @param remoteRequestId the prefill side's request id (vLLM's {@code remote_request_id})
 * @param remoteBlockIds  source blocks on the remote engine
 * @param localBlockIds   destination blocks on this engine, same count, no repeats
 * @param consumers       the count sent in the notification (vLLM: the number of consuming ranks)
 * @param timeout         the whole pull's deadline; empty for the engine's default ({@code pull-timeout})
 * @param progress        called after each completed get, on the engine's progress thread
 */
public record PullRequest(RemoteEngine remote, String remoteRequestId, List<Integer> remoteBlockIds,
                          List<Integer> localBlockIds, int consumers, Optional<Duration> timeout,
                          Optional<PullProgressListener> progress) {

    public PullRequest {
        remoteBlockIds = List.copyOf(remoteBlockIds);
        localBlockIds = List.copyOf(localBlockIds);
        if (remoteRequestId.isEmpty() || remoteRequestId.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("remote request id is empty or has a NUL");
        }
        if (consumers < 1) {
            throw new IllegalArgumentException("consumers must be >= 1, got " + consumers);
        }
        timeout.ifPresent(t -> {
            if (t.isNegative() || t.isZero()) {
                throw new IllegalArgumentException("pull timeout must be positive, got " + t);
            }
        });
    }

    public static Builder builder(RemoteEngine remote, String remoteRequestId) {
        return new Builder(remote, remoteRequestId);
    }

    /** Called on the progress thread after each get (one block, or a run of contiguous blocks) lands.
     *  Blocking in it stalls every transfer of the engine, so keep it short. */
    @FunctionalInterface
    public interface PullProgressListener {
        void blocksDone(int blocksDone, int blocksTotal);
    }

    public static final class Builder {
        private final RemoteEngine remote;
        private final String remoteRequestId;
        private List<Integer> remoteBlockIds = List.of();
        private List<Integer> localBlockIds = List.of();
        private int consumers = 1;
        private Duration timeout;
        private PullProgressListener progress;

        private Builder(RemoteEngine remote, String remoteRequestId) {
            this.remote = remote;
            this.remoteRequestId = remoteRequestId;
        }

        /** Source and destination block ids, pairwise. */
        public Builder blocks(List<Integer> remoteBlockIds, List<Integer> localBlockIds) {
            this.remoteBlockIds = remoteBlockIds;
            this.localBlockIds = localBlockIds;
            return this;
        }

        public Builder consumers(int consumers) {
            this.consumers = consumers;
            return this;
        }

        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public Builder progress(PullProgressListener progress) {
            this.progress = progress;
            return this;
        }

        public PullRequest build() {
            return new PullRequest(remote, remoteRequestId, remoteBlockIds, localBlockIds, consumers,
                    Optional.ofNullable(timeout), Optional.ofNullable(progress));
        }
    }
}
