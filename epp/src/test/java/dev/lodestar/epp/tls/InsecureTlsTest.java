package dev.lodestar.epp.tls;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class InsecureTlsTest {
    @Test
    void acceptsASelfSignedCertificateForAnotherHostThatTheDefaultContextRejects() throws Exception {
        ServingCertificate certificate = ServingCertificate.selfSigned();
        java.security.KeyStore keys = java.security.KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("epp", certificate.key(), new char[0],
                certificate.chain().toArray(java.security.cert.X509Certificate[]::new));
        javax.net.ssl.KeyManagerFactory keyManagers =
                javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, new char[0]);
        SSLContext serverContext = SSLContext.getInstance("TLS");
        serverContext.init(keyManagers.getKeyManagers(), null, null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(serverContext));
        server.createContext("/", exchange -> {
            exchange.sendResponseHeaders(200, 2);
            exchange.getResponseBody().write("ok".getBytes());
            exchange.close();
        });
        server.start();
        try {
            // A host name the certificate does not name: host-name checking must be off too.
            URI uri = URI.create("https://localhost:" + server.getAddress().getPort() + "/");
            SSLParameters checkHostNames = new SSLParameters();
            checkHostNames.setEndpointIdentificationAlgorithm("HTTPS");
            try (HttpClient insecure = HttpClient.newBuilder().sslContext(InsecureTls.trustingEveryCertificate())
                    .sslParameters(checkHostNames).build();
                 HttpClient strict = HttpClient.newHttpClient()) {
                assertThat(insecure.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
                        .body()).isEqualTo("ok");
                assertThatThrownBy(() -> strict.send(HttpRequest.newBuilder(uri).build(),
                        HttpResponse.BodyHandlers.ofString())).isInstanceOf(SSLHandshakeException.class);
            }
        } finally {
            server.stop(0);
        }
    }
}
