package dev.lodestar.epp.tls;

import javax.net.ssl.SSLEngine;
import java.net.Socket;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts every server, as Envoy with an empty validation_context does, and records the certificates
 * servers presented. Extended, so the JDK adds no hostname check of its own.
 */
final class RecordingTrustManager extends X509ExtendedTrustManager {
    final List<X509Certificate> presented = new CopyOnWriteArrayList<>();

    X509Certificate last() {
        return presented.getLast();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        presented.add(chain[0]);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        presented.add(chain[0]);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {
        presented.add(chain[0]);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
