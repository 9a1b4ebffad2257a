package dev.lodestar.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;

/**
 * Sends a request to a model server: the first endpoint of the list that accepts a connection, as Envoy's
 * original-destination cluster walking GIE's fallback list. The response body is read as it arrives.
 */
final class UpstreamClient implements AutoCloseable {
    private static final java.util.logging.Logger LOGGER =
            java.util.logging.Logger.getLogger(UpstreamClient.class.getName());
    /** Headers the JDK client sets itself and refuses from callers. */
    private static final Set<String> SET_BY_CLIENT = Set.of("host", "content-length", "expect", "upgrade", "connection");

    private final HttpClient client;

    UpstreamClient(Duration connectTimeout) {
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .build();
    }

    /** A response whose headers arrived from {@code endpoint}. */
    record Connected(String endpoint, HttpResponse<InputStream> response) {
    }

    /** No endpoint of the list could be used; {@code status} is what Envoy would answer. */
    static final class UpstreamFailure extends Exception {
        private final int status;

        UpstreamFailure(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }

        int status() {
            return status;
        }
    }

    Connected send(List<String> endpoints, String method, String path, HeaderBlock headers, byte[] body,
                   Duration timeout) throws UpstreamFailure, InterruptedException {
        String lastFailure = "no endpoint";
        for (String endpoint : endpoints) {
            HttpRequest request = request(endpoint, method, path, headers, body, timeout);
            try {
                return new Connected(endpoint, client.send(request, HttpResponse.BodyHandlers.ofInputStream()));
            } catch (HttpConnectTimeoutException | ConnectException e) {
                lastFailure = endpoint + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
                LOGGER.info("cannot connect to " + lastFailure + "; trying the next endpoint of the list, if any");
            } catch (HttpTimeoutException e) {
                throw new UpstreamFailure(504, "upstream request timeout");
            } catch (IOException e) {
                throw new UpstreamFailure(503, "upstream connect error or disconnect/reset before headers. "
                        + "reset reason: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
            }
        }
        throw new UpstreamFailure(503, "upstream connect error or disconnect/reset before headers. "
                + "reset reason: connection failure (" + lastFailure + ")");
    }

    private static HttpRequest request(String endpoint, String method, String path, HeaderBlock headers, byte[] body,
                                       Duration timeout) {
        HttpRequest.BodyPublisher publisher = body.length == 0
                ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(body);
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create("http://" + endpoint + path))
                .method(method, publisher)
                .timeout(timeout);
        for (Map.Entry<String, String> header : headers.entries()) {
            String name = header.getKey();
            if (!name.startsWith(":") && !SET_BY_CLIENT.contains(name) && !HeaderBlock.HOP_BY_HOP.contains(name)) {
                builder.header(name, header.getValue());
            }
        }
        return builder.build();
    }

    @Override
    public void close() {
        client.close();
    }
}
