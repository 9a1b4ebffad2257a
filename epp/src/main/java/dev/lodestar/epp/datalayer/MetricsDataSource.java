package dev.lodestar.epp.datalayer;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * Fetches an endpoint's metrics over HTTP(S) from {@code <scheme>://<metricsHost><path>}. One HTTP/1.1
 * client is shared by all endpoints, so each endpoint keeps a pooled connection between scrapes.
 */
public final class MetricsDataSource implements Plugin, AutoCloseable {
    public static final String TYPE = "metrics-data-source";
    public static final String DEFAULT_SCHEME = "http";
    public static final String DEFAULT_PATH = "/metrics";
    public static final boolean DEFAULT_INSECURE_SKIP_VERIFY = true;
    /** Upstream bounds each collection by 1 s (its client's own 10 s timeout never bites first). */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);

    /** The factory with upstream's defaults. */
    public static final PluginFactory FACTORY = factory(Params.DEFAULTS);

    /**
     * A factory whose unset parameters come from {@code defaults}: upstream lets the deprecated
     * {@code --model-server-metrics-scheme}, {@code -path} and {@code -https-insecure-skip-verify} flags
     * supply them, and explicit plugin parameters win over the flags.
     */
    public static PluginFactory factory(Params defaults) {
        Params fallback = defaults.orElse(Params.DEFAULTS);
        return (name, parameters, handle) -> {
            Params params = PluginParameters.decode(name, parameters, Params.class).orElse(fallback);
            try {
                return builder().name(name).scheme(params.scheme()).path(params.path())
                        .insecureSkipVerify(params.insecureSkipVerify()).build();
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigException("plugin '" + name + "': " + e.getMessage(), e);
            }
        };
    }

    /**
     * The plugin's parameters; a null field is unset.
     *
     * @param scheme             {@code http} or {@code https} (default {@value #DEFAULT_SCHEME})
     * @param path               the metrics path (default {@value #DEFAULT_PATH})
     * @param insecureSkipVerify with https, accept any server certificate (default true)
     */
    public record Params(String scheme, String path, Boolean insecureSkipVerify) {
        public static final Params DEFAULTS = new Params(DEFAULT_SCHEME, DEFAULT_PATH, DEFAULT_INSECURE_SKIP_VERIFY);

        /** These parameters with the unset ones taken from {@code defaults}. */
        public Params orElse(Params defaults) {
            return new Params(scheme == null ? defaults.scheme : scheme, path == null ? defaults.path : path,
                    insecureSkipVerify == null ? defaults.insecureSkipVerify : insecureSkipVerify);
        }
    }

    private final TypedName typedName;
    private final String scheme;
    private final String path;
    private final boolean insecureSkipVerify;
    private final Duration timeout;
    private final HttpClient client;

    private MetricsDataSource(Builder builder) {
        this.typedName = new TypedName(TYPE, builder.name);
        this.scheme = builder.scheme.toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("unsupported scheme '" + builder.scheme + "' (http or https)");
        }
        if (builder.path.isBlank()) {
            throw new IllegalArgumentException("path must not be empty");
        }
        this.path = builder.path.startsWith("/") ? builder.path : "/" + builder.path;
        this.insecureSkipVerify = builder.insecureSkipVerify;
        if (builder.timeout.isNegative() || builder.timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + builder.timeout);
        }
        this.timeout = builder.timeout;
        HttpClient.Builder http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NORMAL);
        if (scheme.equals("https") && insecureSkipVerify) {
            http.sslContext(trustingEveryCertificate());
        }
        this.client = http.build();
    }

    /** A source with upstream's defaults: {@code http}, {@code /metrics}, 1 s timeout. */
    public static MetricsDataSource create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    public String scheme() {
        return scheme;
    }

    public String path() {
        return path;
    }

    public boolean insecureSkipVerify() {
        return insecureSkipVerify;
    }

    public Duration timeout() {
        return timeout;
    }

    /** Where an endpoint's metrics are read from. */
    public URI target(EndpointMetadata endpoint) {
        return URI.create(scheme + "://" + endpoint.metricsHost() + path);
    }

    /**
     * Fetches the metrics body of an endpoint, blocking (at most the timeout) on the calling thread.
     *
     * @throws IOException on a connection failure, a timeout or a status other than 200
     */
    public byte[] fetch(EndpointMetadata endpoint) throws IOException, InterruptedException {
        URI target = target(endpoint);
        HttpRequest request = HttpRequest.newBuilder(target).timeout(timeout).GET().build();
        HttpResponse<byte[]> response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw new IOException("unexpected status " + response.statusCode() + " from " + target);
        }
        return response.body();
    }

    @Override
    public void close() {
        client.close();
    }

    /**
     * An SSL context that accepts any server certificate and host name, as Go's {@code InsecureSkipVerify}.
     * The trust manager must be an {@link X509ExtendedTrustManager}: for a plain X509TrustManager the JDK
     * adds its own host-name check, which fails for model servers reached by IP with self-signed certificates.
     */
    private static SSLContext trustingEveryCertificate() {
        TrustManager trustAll = new X509ExtendedTrustManager() {
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
            context.init(null, new TrustManager[]{trustAll}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create a TLS context", e);
        }
    }

    /** Builds a {@link MetricsDataSource}; every setting defaults to upstream's. */
    public static final class Builder {
        private String name = TYPE;
        private String scheme = DEFAULT_SCHEME;
        private String path = DEFAULT_PATH;
        private boolean insecureSkipVerify = DEFAULT_INSECURE_SKIP_VERIFY;
        private Duration timeout = DEFAULT_TIMEOUT;

        private Builder() {
        }

        /** The plugin instance name (default the type). */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        public Builder scheme(String scheme) {
            this.scheme = Objects.requireNonNull(scheme, "scheme");
            return this;
        }

        public Builder path(String path) {
            this.path = Objects.requireNonNull(path, "path");
            return this;
        }

        public Builder insecureSkipVerify(boolean insecureSkipVerify) {
            this.insecureSkipVerify = insecureSkipVerify;
            return this;
        }

        /** Connect and request timeout of one scrape (default 1 s). */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * @throws IllegalArgumentException for a scheme other than http/https, an empty path or a
         *                                  non-positive timeout
         */
        public MetricsDataSource build() {
            return new MetricsDataSource(this);
        }
    }
}
