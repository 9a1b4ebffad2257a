package dev.lodestar.epp.tls;

import io.helidon.common.tls.Tls;

import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Objects;

/**
 * A private key and the certificate chain served with it (leaf first).
 *
 * @param key   the leaf certificate's private key
 * @param chain the leaf certificate, then any intermediates
 */
public record ServingCertificate(PrivateKey key, List<X509Certificate> chain) {
    /** The file names GIE expects in {@code --cert-path}. */
    public static final String CERTIFICATE_FILE = "tls.crt";
    public static final String KEY_FILE = "tls.key";

    public ServingCertificate {
        Objects.requireNonNull(key, "key");
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a serving certificate needs at least one certificate");
        }
    }

    /** A new self-signed certificate as upstream generates when no {@code --cert-path} is given. */
    public static ServingCertificate selfSigned() {
        return SelfSignedCertificates.generate(Clock.systemUTC());
    }

    /**
     * Reads {@code tls.crt} (PEM certificates, leaf first) and {@code tls.key} (PEM private key: PKCS#1,
     * SEC1 or unencrypted PKCS#8) from {@code directory}.
     *
     * @throws IllegalArgumentException when a file is missing or malformed, or the key does not match the
     *                                  leaf certificate
     */
    public static ServingCertificate load(Path directory) {
        return PemFiles.load(directory.resolve(CERTIFICATE_FILE), directory.resolve(KEY_FILE));
    }

    public X509Certificate leaf() {
        return chain.getFirst();
    }

    /**
     * Helidon TLS serving this certificate, offering HTTP/2 by ALPN as gRPC clients require. Clients are
     * not asked for certificates, so the trust setting decides nothing; it is there because Helidon 4.4
     * can reload TLS only when the listener started with a trust manager (else
     * {@code WebServer.reloadTls} fails with a NullPointerException).
     */
    public Tls toTls() {
        return Tls.builder()
                .privateKey(key)
                .privateKeyCertChain(chain)
                .trustAll(true)
                .addApplicationProtocol("h2")
                .build();
    }
}
