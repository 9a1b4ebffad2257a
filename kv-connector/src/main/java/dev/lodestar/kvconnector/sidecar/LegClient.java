package dev.lodestar.kvconnector.sidecar;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;

/**
 * The HTTP/1.1 client of one kind of leg (to prefill pods, or to the local decoder): HTTPS when
 * {@code --enable-tls} names the stage, without certificate checks when {@code --tls-insecure-skip-verify} does.
 * Responses are read as streams, so a decode answer is relayed as it arrives.
 */
final class LegClient implements AutoCloseable {
    private final HttpClient client;
    private final String scheme;

    LegClient(boolean tls, boolean insecureSkipVerify) {
        this.scheme = tls ? "https" : "http";
        HttpClient.Builder builder = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(Executors.newVirtualThreadPerTaskExecutor());
        if (tls) {
            SSLParameters parameters = new SSLParameters();
            parameters.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
            builder.sslParameters(parameters);
            if (insecureSkipVerify) {
                builder.sslContext(trustingEveryone());
            }
        }
        this.client = builder.build();
    }

    String scheme() {
        return scheme;
    }

    /** {@code scheme://hostPort/pathAndQuery}. */
    URI uri(String hostPort, String pathAndQuery) {
        return URI.create(scheme + "://" + hostPort + pathAndQuery);
    }

    /** Sends; the future completes when the response headers arrived (cancel it to abort the exchange). */
    CompletableFuture<HttpResponse<InputStream>> send(URI uri, String method, Map<String, List<String>> headers,
                                                      byte[] body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).method(method, body.length == 0
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach((name, values) -> values.forEach(value -> request.header(name, value)));
        return client.sendAsync(request.build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    @Override
    public void close() {
        client.close();
    }

    /** An SSL context whose trust manager accepts any server certificate and host name. */
    private static SSLContext trustingEveryone() {
        X509ExtendedTrustManager trustAll = new X509ExtendedTrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {trustAll}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this JDK", e);
        }
    }
}
