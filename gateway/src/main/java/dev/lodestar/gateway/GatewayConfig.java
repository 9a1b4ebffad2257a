package dev.lodestar.gateway;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The dev gateway's configuration file: where it listens, its timeouts, the pools (each with its Endpoint
 * Picker) and the routes that send requests to them. Unknown keys and inconsistent values are errors whose
 * message names the key.
 *
 * @param listen   where the gateway serves clients
 * @param timeouts how long it waits for the EPP and the model servers
 * @param pools    the InferencePools, each behind its own EPP
 * @param routes   first match wins
 */
public record GatewayConfig(Listen listen, Timeouts timeouts, List<Pool> pools, List<Route> routes) {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
    private static final Pattern HOST_PORT = Pattern.compile("(\\[[0-9a-fA-F:.]+]|[^:\\[\\]]+):(\\d{1,5})");

    public GatewayConfig {
        listen = listen == null ? new Listen(null, null) : listen;
        timeouts = timeouts == null ? new Timeouts(null, null, null) : timeouts;
        pools = pools == null ? List.of() : List.copyOf(pools);
        routes = routes == null ? List.of() : List.copyOf(routes);
        if (pools.isEmpty()) {
            throw new IllegalArgumentException("pools: at least one pool is required");
        }
        Set<String> names = new HashSet<>();
        for (Pool pool : pools) {
            if (!names.add(pool.name())) {
                throw new IllegalArgumentException("pools: the name '" + pool.name() + "' is used twice");
            }
        }
        if (routes.isEmpty()) {
            throw new IllegalArgumentException("routes: at least one route is required");
        }
        for (int i = 0; i < routes.size(); i++) {
            if (!names.contains(routes.get(i).pool())) {
                throw new IllegalArgumentException("routes[" + i + "].pool: no pool named '" + routes.get(i).pool()
                        + "' (pools: " + String.join(", ", names.stream().sorted().toList()) + ")");
            }
        }
    }

    /**
     * @param host the address to bind (127.0.0.1 by default)
     * @param port the port (8080 by default; 0 = any free port)
     */
    public record Listen(String host, Integer port) {
        public Listen {
            host = host == null || host.isBlank() ? "127.0.0.1" : host;
            port = port == null ? 8080 : port;
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("listen.port: " + port + " is not a port");
            }
        }
    }

    /**
     * Durations are written as {@code 250ms}, {@code 10s}, {@code 5m} or {@code 1h}.
     *
     * @param messageTimeout  longest wait for each reply of the EPP (Envoy's {@code message_timeout}; 10s)
     * @param connectTimeout  connecting to a model server, after which the next endpoint is tried (2s)
     * @param responseTimeout a whole upstream response, from sending the request to its last byte (300s)
     */
    public record Timeouts(String messageTimeout, String connectTimeout, String responseTimeout) {
        public Timeouts {
            messageTimeout = messageTimeout == null ? "10s" : messageTimeout;
            connectTimeout = connectTimeout == null ? "2s" : connectTimeout;
            responseTimeout = responseTimeout == null ? "300s" : responseTimeout;
            duration("timeouts.messageTimeout", messageTimeout);
            duration("timeouts.connectTimeout", connectTimeout);
            duration("timeouts.responseTimeout", responseTimeout);
        }

        public Duration message() {
            return duration("timeouts.messageTimeout", messageTimeout);
        }

        public Duration connect() {
            return duration("timeouts.connectTimeout", connectTimeout);
        }

        public Duration response() {
            return duration("timeouts.responseTimeout", responseTimeout);
        }
    }

    /** What the gateway does when the pool's EPP cannot be reached or fails (InferencePool's enum). */
    public enum FailureMode {
        /** Answer 500, as Envoy's ext_proc filter with {@code failure_mode_allow: false}. */
        FailClose,
        /** Send the request, unchanged, to one of the pool's {@code endpoints}. */
        FailOpen
    }

    /**
     * @param name           referenced by routes
     * @param endpointPicker the pool's EPP
     * @param failureMode    {@link FailureMode#FailClose} by default, as InferencePool's {@code endpointPickerRef}
     * @param endpoints      {@code ip:port} of the pool's model servers, used when failing open
     */
    public record Pool(String name, EndpointPicker endpointPicker, FailureMode failureMode, List<String> endpoints) {
        public Pool {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("pools[].name is required");
            }
            if (endpointPicker == null) {
                throw new IllegalArgumentException("pools[" + name + "].endpointPicker is required");
            }
            failureMode = failureMode == null ? FailureMode.FailClose : failureMode;
            endpoints = endpoints == null ? List.of() : List.copyOf(endpoints);
            for (String endpoint : endpoints) {
                hostPort("pools[" + name + "].endpoints", endpoint);
            }
            if (failureMode == FailureMode.FailOpen && endpoints.isEmpty()) {
                throw new IllegalArgumentException("pools[" + name + "]: failureMode FailOpen needs endpoints to fail "
                        + "open to");
            }
            hostPort("pools[" + name + "].endpointPicker.address", endpointPicker.address());
        }
    }

    /**
     * @param address {@code host:port} of the EPP's ext_proc service
     * @param tls     TLS without verifying the certificate, as GIE's Envoy configuration (true by default,
     *                as the EPP's {@code --secure-serving})
     */
    public record EndpointPicker(String address, Boolean tls) {
        public EndpointPicker {
            tls = tls == null || tls;
        }
    }

    /**
     * @param pathPrefix     the request path must start with it ({@code /} by default)
     * @param model          when set, the JSON body's {@code model} must equal it
     * @param pool           the pool that serves matching requests
     * @param endpointSubset when set, the EPP may pick only among these {@code ip:port} (the subset hint)
     */
    public record Route(String pathPrefix, String model, String pool, List<String> endpointSubset) {
        public Route {
            pathPrefix = pathPrefix == null || pathPrefix.isEmpty() ? "/" : pathPrefix;
            if (!pathPrefix.startsWith("/")) {
                throw new IllegalArgumentException("routes[].pathPrefix must start with '/': " + pathPrefix);
            }
            if (pool == null || pool.isBlank()) {
                throw new IllegalArgumentException("routes[].pool is required");
            }
            if (endpointSubset != null) {
                endpointSubset = List.copyOf(endpointSubset);
                for (String endpoint : endpointSubset) {
                    hostPort("routes[].endpointSubset", endpoint);
                }
            }
        }

        public Optional<List<String>> subset() {
            return Optional.ofNullable(endpointSubset);
        }

        boolean matches(String path, Optional<String> bodyModel) {
            return path.startsWith(pathPrefix) && (model == null || bodyModel.filter(model::equals).isPresent());
        }
    }

    public static GatewayConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return parse(text);
    }

    public static GatewayConfig parse(String yaml) {
        try {
            GatewayConfig config = YAML.readValue(yaml, GatewayConfig.class);
            if (config == null) {
                throw new IllegalArgumentException("the configuration is empty");
            }
            return config;
        } catch (JsonMappingException e) {
            if (e.getCause() instanceof IllegalArgumentException invalid) {
                throw invalid;
            }
            throw new IllegalArgumentException(e.getOriginalMessage() + " (at " + path(e) + ")", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("not valid YAML: " + e.getMessage(), e);
        }
    }

    private static String path(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference reference : e.getPath()) {
            if (reference.getFieldName() != null) {
                path.append(path.isEmpty() ? "" : ".").append(reference.getFieldName());
            } else {
                path.append('[').append(reference.getIndex()).append(']');
            }
        }
        return path.isEmpty() ? "top level" : path.toString();
    }

    static Duration duration(String key, String text) {
        Matcher matcher = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!matcher.matches()) {
            throw new IllegalArgumentException(key + ": '" + text + "' is not a duration (e.g. 250ms, 10s, 5m, 1h)");
        }
        long amount = Long.parseLong(matcher.group(1));
        return switch (matcher.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            default -> Duration.ofHours(amount);
        };
    }

    /** Checks {@code host:port} ({@code [v6]:port} for IPv6) and returns it split. */
    static HostPort hostPort(String key, String text) {
        Matcher matcher = text == null ? null : HOST_PORT.matcher(text.trim());
        if (matcher == null || !matcher.matches() || Integer.parseInt(matcher.group(2)) > 65535) {
            throw new IllegalArgumentException(key + ": '" + text + "' is not host:port");
        }
        String host = matcher.group(1);
        if (host.startsWith("[")) {
            host = host.substring(1, host.length() - 1);
        }
        return new HostPort(host, Integer.parseInt(matcher.group(2)));
    }

    record HostPort(String host, int port) {
    }
}
