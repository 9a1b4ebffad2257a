package dev.lodestar.kvconnector.transfer;

/**
 * Why a transfer-engine operation failed: one subtype per failure a caller can act on. Unchecked; every
 * message names the remote engine and request where there is one.
 */
public abstract sealed class KvTransferException extends RuntimeException {

    KvTransferException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Debian's libucx0 (UCX 1.13) or jucx's JNI glue could not be loaded. */
    public static final class UcxUnavailable extends KvTransferException {
        UcxUnavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The side-channel handshake failed: no reply in time, a malformed or error reply, a wrong engine id, an
     *  incompatible layout. Nothing is cached; the next pull tries again. */
    public static final class HandshakeFailed extends KvTransferException {
        HandshakeFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Block ids out of range, of different counts, repeated destinations, or block sizes that differ. Nothing
     *  was transferred. */
    public static final class BadBlockIds extends KvTransferException {
        BadBlockIds(String message) {
            super(message, null);
        }
    }

    /** The remote engine failed or went away during the pull (UCX reported an endpoint or request error). Its
     *  cached handshake is dropped; the local destination blocks hold partial data. */
    public static final class PeerFailed extends KvTransferException {
        private final int ucxStatus;

        PeerFailed(String message, int ucxStatus) {
            super(message, null);
            this.ucxStatus = ucxStatus;
        }

        /** UCX's {@code ucs_status_t} (negative), or 0 when the failure was not a UCX status. */
        public int ucxStatus() {
            return ucxStatus;
        }
    }

    /** The pull did not complete within its timeout; the endpoint was closed (force), the cached handshake
     *  dropped, the local destination blocks hold partial data. */
    public static final class PullTimedOut extends KvTransferException {
        PullTimedOut(String message) {
            super(message, null);
        }
    }

    /** The local engine was closed before or during the operation. */
    public static final class EngineClosed extends KvTransferException {
        EngineClosed(String message) {
            super(message, null);
        }
    }
}
