package dev.lodestar.epp.tls;

import io.helidon.common.tls.Tls;
import io.helidon.webserver.WebServer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The ext_proc listener's TLS from upstream's flags: {@code --secure-serving} (default true) turns it on;
 * {@code --cert-path} names a directory with {@code tls.crt} and {@code tls.key}, without it a self-signed
 * certificate is generated at start; {@code --enable-cert-reload} (only with {@code --cert-path}) swaps
 * in the files' new certificate without a restart. New connections get the new certificate; open
 * connections keep the one they negotiated.
 */
public final class ServingTls implements AutoCloseable {
    private final Optional<ServingCertificate> initial;
    private final Optional<Path> reloadFrom;
    private final Duration quietPeriod;
    private final List<Consumer<ServingCertificate>> reloadListeners = new CopyOnWriteArrayList<>();
    private volatile Optional<CertificateReloader> reloader = Optional.empty();

    private ServingTls(Optional<ServingCertificate> initial, Optional<Path> reloadFrom, Duration quietPeriod) {
        this.initial = initial;
        this.reloadFrom = reloadFrom;
        this.quietPeriod = quietPeriod;
    }

    /**
     * @throws IllegalArgumentException when {@code --cert-path}'s files cannot be loaded
     */
    public static ServingTls create(boolean secureServing, Optional<Path> certPath, boolean enableCertReload) {
        return create(secureServing, certPath, enableCertReload, CertificateReloader.DEFAULT_QUIET_PERIOD);
    }

    static ServingTls create(boolean secureServing, Optional<Path> certPath, boolean enableCertReload,
                             Duration quietPeriod) {
        if (!secureServing) {
            return new ServingTls(Optional.empty(), Optional.empty(), quietPeriod);
        }
        if (certPath.isEmpty()) {
            return new ServingTls(Optional.of(ServingCertificate.selfSigned()), Optional.empty(), quietPeriod);
        }
        ServingCertificate loaded = ServingCertificate.load(certPath.get());
        return new ServingTls(Optional.of(loaded), enableCertReload ? certPath : Optional.empty(), quietPeriod);
    }

    /** The TLS for the listener ({@code GrpcServers.Builder.tls}), empty for plaintext. */
    public Optional<Tls> tls() {
        return initial.map(ServingCertificate::toTls);
    }

    /** The certificate served at start, empty for plaintext. */
    public Optional<ServingCertificate> certificate() {
        return initial;
    }

    /** Whether {@link #attach} will watch {@code --cert-path} for new certificates. */
    public boolean reloading() {
        return reloadFrom.isPresent();
    }

    /** Runs {@code listener} after each certificate swap. */
    public ServingTls onReload(Consumer<ServingCertificate> listener) {
        reloadListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /**
     * Starts swapping new certificates from {@code --cert-path} into {@code server}'s default listener;
     * does nothing unless {@link #reloading()}. Call it once, after the server started.
     */
    public void attach(WebServer server) {
        Objects.requireNonNull(server, "server");
        reloadFrom.ifPresent(directory -> {
            if (reloader.isPresent()) {
                throw new IllegalStateException("already attached to a server");
            }
            reloader = Optional.of(CertificateReloader.start(directory, quietPeriod, certificate -> {
                server.reloadTls(certificate.toTls());
                reloadListeners.forEach(listener -> listener.accept(certificate));
            }));
        });
    }

    @Override
    public void close() {
        reloader.ifPresent(CertificateReloader::close);
    }
}
