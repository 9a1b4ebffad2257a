package dev.lodestar.epp.metrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Who may read {@code /metrics}. Upstream's {@code --metrics-endpoint-auth} (default true) asks the
 * Kubernetes API to review the scraper's bearer token; Lodestar has no API server to ask, so with the
 * flag on it accepts the bearer tokens listed in a token file instead (Prometheus:
 * {@code authorization.credentials_file}). With the flag on and no token file every scrape is refused,
 * with a body that says how to fix it: the endpoint is never open by accident.
 */
public sealed interface MetricsAuth {
    /** What to do with one request. */
    enum Verdict {
        ALLOWED,
        /** 401: no {@code Authorization: Bearer} header, or a token that is not listed. */
        UNAUTHENTICATED,
        /** 401: authentication is on but no token is configured. */
        NOT_CONFIGURED,
        /** 500: the token file cannot be read now. */
        UNAVAILABLE
    }

    /** Decides on a request with the given {@code Authorization} header. */
    Verdict authorize(Optional<String> authorization);

    /** No authentication ({@code --metrics-endpoint-auth=false}). */
    static MetricsAuth open() {
        return new Open();
    }

    /** Bearer tokens read from {@code tokenFile}: one per line; blank lines and {@code #} comments are skipped. */
    static MetricsAuth bearerTokens(Path tokenFile) {
        return new BearerTokens(tokenFile);
    }

    /**
     * From the flags: {@code endpointAuth} is {@code --metrics-endpoint-auth}, {@code tokenFile} the file
     * of accepted tokens.
     *
     * @throws IllegalArgumentException when the token file cannot be read or lists no token
     */
    static MetricsAuth fromFlags(boolean endpointAuth, Optional<Path> tokenFile) {
        if (!endpointAuth) {
            return open();
        }
        if (tokenFile.isEmpty()) {
            return new NoTokens();
        }
        BearerTokens tokens = new BearerTokens(tokenFile.get());
        try {
            if (tokens.current().isEmpty()) {
                throw new IllegalArgumentException("metrics token file " + tokenFile.get() + " lists no token");
            }
        } catch (UncheckedIOException e) {
            throw new IllegalArgumentException("cannot read metrics token file " + tokenFile.get() + ": "
                    + e.getCause().getMessage(), e);
        }
        return tokens;
    }

    /** {@code --metrics-endpoint-auth=false}. */
    record Open() implements MetricsAuth {
        @Override
        public Verdict authorize(Optional<String> authorization) {
            return Verdict.ALLOWED;
        }
    }

    /** Authentication on, no token configured: nobody gets in. */
    record NoTokens() implements MetricsAuth {
        @Override
        public Verdict authorize(Optional<String> authorization) {
            return Verdict.NOT_CONFIGURED;
        }
    }

    /**
     * Tokens from a file, read again whenever its modification time or size changes, so a rotated
     * token (e.g. an updated Secret) takes effect without a restart. Tokens are compared by SHA-256
     * digest in constant time.
     */
    final class BearerTokens implements MetricsAuth {
        private static final String BEARER = "bearer ";

        private final Path file;
        private volatile Snapshot snapshot = new Snapshot(FileTime.fromMillis(Long.MIN_VALUE), -1, List.of());

        private BearerTokens(Path file) {
            this.file = Objects.requireNonNull(file, "file");
        }

        @Override
        public Verdict authorize(Optional<String> authorization) {
            List<byte[]> accepted;
            try {
                accepted = current();
            } catch (UncheckedIOException e) {
                return Verdict.UNAVAILABLE;
            }
            if (authorization.isEmpty() || authorization.get().length() <= BEARER.length()
                    || !authorization.get().regionMatches(true, 0, BEARER, 0, BEARER.length())) {
                return Verdict.UNAUTHENTICATED;
            }
            byte[] presented = digest(authorization.get().substring(BEARER.length()).trim());
            boolean match = false;
            for (byte[] token : accepted) {
                match |= MessageDigest.isEqual(token, presented);
            }
            return match ? Verdict.ALLOWED : Verdict.UNAUTHENTICATED;
        }

        /** The digests of the tokens the file lists now. */
        List<byte[]> current() {
            try {
                FileTime modified = Files.getLastModifiedTime(file);
                long size = Files.size(file);
                Snapshot known = snapshot;
                if (known.modified().equals(modified) && known.size() == size) {
                    return known.digests();
                }
                List<byte[]> digests = Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                        .map(String::trim)
                        .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                        .map(BearerTokens::digest)
                        .toList();
                snapshot = new Snapshot(modified, size, digests);
                return digests;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static byte[] digest(String token) {
            try {
                return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is missing from this JDK", e);
            }
        }

        private record Snapshot(FileTime modified, long size, List<byte[]> digests) {
        }
    }
}
