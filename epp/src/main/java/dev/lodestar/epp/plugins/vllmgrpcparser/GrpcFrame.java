package dev.lodestar.epp.plugins.vllmgrpcparser;

import java.util.Optional;

/**
 * The first message of a gRPC length-prefixed body (gRPC over HTTP/2): one flag byte, a big-endian
 * 4-byte length, then the message. Bytes after the first message are not read, as GIE's parser.
 *
 * @param compressed whether the flag byte is exactly 1 (any other value counts as uncompressed, as upstream)
 * @param message    the message bytes, without the prefix
 */
record GrpcFrame(boolean compressed, byte[] message) {
    static final int PREFIX_LENGTH = 5;

    /** The first frame of {@code body}; empty when the prefix is cut short or announces more bytes than there are. */
    static Optional<GrpcFrame> first(byte[] body) {
        if (body.length < PREFIX_LENGTH) {
            return Optional.empty();
        }
        long length = ((body[1] & 0xFFL) << 24) | ((body[2] & 0xFFL) << 16) | ((body[3] & 0xFFL) << 8) | (body[4] & 0xFFL);
        if (body.length - PREFIX_LENGTH < length) {
            return Optional.empty();
        }
        byte[] message = new byte[(int) length];
        System.arraycopy(body, PREFIX_LENGTH, message, 0, message.length);
        return Optional.of(new GrpcFrame(body[0] == 1, message));
    }
}
