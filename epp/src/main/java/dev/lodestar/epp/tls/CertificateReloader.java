package dev.lodestar.epp.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Watches a {@code --cert-path} directory and hands every new certificate to a consumer, as GIE's
 * {@code pkg/common/certs.go}: a file created or written in the directory (Kubernetes swaps a Secret's
 * files by creating a new {@code ..data} link) starts a quiet period of 250 ms; when no further event
 * arrives in it, {@code tls.crt} and {@code tls.key} are read again. A pair that fails to load (e.g.
 * caught between the two writes) is logged and the current certificate stays.
 */
public final class CertificateReloader implements AutoCloseable {
    /** Upstream's debounce delay. */
    public static final Duration DEFAULT_QUIET_PERIOD = Duration.ofMillis(250);

    private static final System.Logger LOGGER = System.getLogger(CertificateReloader.class.getName());

    private final Path directory;
    private final Duration quietPeriod;
    private final Consumer<ServingCertificate> onReload;
    private final WatchService watcher;
    private final Thread thread;

    private CertificateReloader(Path directory, Duration quietPeriod, Consumer<ServingCertificate> onReload)
            throws IOException {
        this.directory = directory;
        this.quietPeriod = quietPeriod;
        this.onReload = onReload;
        this.watcher = FileSystems.getDefault().newWatchService();
        try {
            directory.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
        } catch (IOException | RuntimeException e) {
            watcher.close();
            throw e;
        }
        this.thread = Thread.ofPlatform().daemon().name("cert-reloader").unstarted(this::run);
    }

    /**
     * Starts watching {@code directory}; {@code onReload} runs on the watcher's thread with each
     * certificate that loaded.
     *
     * @throws UncheckedIOException when the directory cannot be watched
     */
    public static CertificateReloader start(Path directory, Duration quietPeriod,
                                            Consumer<ServingCertificate> onReload) {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(onReload, "onReload");
        if (quietPeriod.isNegative()) {
            throw new IllegalArgumentException("quiet period must not be negative, got " + quietPeriod);
        }
        try {
            CertificateReloader reloader = new CertificateReloader(directory, quietPeriod, onReload);
            reloader.thread.start();
            return reloader;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot watch " + directory + " for certificate changes", e);
        }
    }

    private void run() {
        try {
            boolean pending = false;
            long deadline = 0;
            while (true) {
                WatchKey key = pending
                        ? watcher.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
                        : watcher.take();
                if (key != null) {
                    if (!key.pollEvents().isEmpty()) {
                        pending = true;
                        deadline = System.nanoTime() + quietPeriod.toNanos();
                    }
                    key.reset();
                }
                if (pending && System.nanoTime() - deadline >= 0) {
                    pending = false;
                    reload();
                }
            }
        } catch (ClosedWatchServiceException | InterruptedException e) {
            // closed: stop watching
        }
    }

    private void reload() {
        ServingCertificate certificate;
        try {
            certificate = ServingCertificate.load(directory);
        } catch (IllegalArgumentException e) {
            LOGGER.log(System.Logger.Level.WARNING,
                    "cannot reload the TLS certificate from " + directory + ", keeping the current one: "
                            + e.getMessage());
            return;
        }
        try {
            onReload.accept(certificate);
            LOGGER.log(System.Logger.Level.INFO, () -> "reloaded the TLS certificate from " + directory
                    + " (serial " + certificate.leaf().getSerialNumber().toString(16) + ")");
        } catch (RuntimeException e) {
            LOGGER.log(System.Logger.Level.WARNING, "cannot apply the TLS certificate reloaded from " + directory, e);
        }
    }

    @Override
    public void close() {
        try {
            watcher.close();
        } catch (IOException e) {
            LOGGER.log(System.Logger.Level.DEBUG, "closing the certificate watcher", e);
        }
    }
}
