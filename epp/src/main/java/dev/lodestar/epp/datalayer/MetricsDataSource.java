package dev.lodestar.epp.datalayer;

import dev.lodestar.epp.tls.InsecureTls;
import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.URI;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Where and how endpoints' metrics are fetched: {@code <scheme>://<metricsHost><path>} over HTTP/1.1,
 * with TLS for https. Each scrape loop opens its own kept-alive {@link MetricsConnection}.
 */
public final class MetricsDataSource implements Plugin {
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
    private final Optional<SSLContext> tls;

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
        if (!scheme.equals("https")) {
            this.tls = Optional.empty();
        } else if (insecureSkipVerify) {
            this.tls = Optional.of(InsecureTls.trustingEveryCertificate());
        } else {
            try {
                this.tls = Optional.of(SSLContext.getDefault());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("no default TLS context", e);
            }
        }
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
        return target(endpoint.metricsHost());
    }

    URI target(String metricsHost) {
        return URI.create(scheme + "://" + metricsHost + path);
    }

    /** The TLS context of https sources. */
    Optional<SSLContext> tls() {
        return tls;
    }

    /** A connection for one scrape loop; close it when the loop ends. */
    public MetricsConnection openConnection() {
        return new MetricsConnection(this);
    }

    /**
     * Fetches an endpoint's metrics once, on a connection of its own, blocking at most the timeout.
     *
     * @throws IOException on a connection failure, a timeout or a status other than 200
     */
    public byte[] fetch(EndpointMetadata endpoint) throws IOException {
        try (MetricsConnection connection = openConnection()) {
            MetricsConnection.Body body = connection.fetch(endpoint);
            return Arrays.copyOfRange(body.bytes(), body.offset(), body.offset() + body.length());
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
