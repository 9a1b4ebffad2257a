package dev.lodestar.epp.plugins.sessionaffinity;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginHandle;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.PreRequestPlugin;
import dev.lodestar.epp.framework.requestcontrol.Response;
import dev.lodestar.epp.framework.requestcontrol.ResponseBodyPlugin;
import dev.lodestar.epp.framework.requestcontrol.ResponseHeaderPlugin;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.framework.scheduling.Scorer;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * {@code session-affinity-scorer} (llm-d): 1.0 for the endpoint that served the request's session before,
 * 0 for the others. Two strategies:
 * <ul>
 *   <li>{@code encoded_endpoint_header} (default, stateless): the request header (default
 *       {@code x-session-token}) carries base64 of the endpoint's {@code namespace/name}; the scorer writes
 *       that header on every response with the endpoint that served it (or, with {@code profileName}, the
 *       target of that profile) for the client to send back.</li>
 *   <li>{@code session_id}: the session id comes from the first non-empty configured request header
 *       (default {@code x-session-id}); the first pick binds the session to its endpoint, kept while used
 *       within {@code evictionTtlSeconds}. An unbound session, or one whose endpoint is not a candidate,
 *       scores 0 everywhere; in the latter case the session moves to the endpoint the request is sent to.</li>
 * </ul>
 */
public final class SessionAffinityScorer
        implements Scorer, PreRequestPlugin, ResponseHeaderPlugin, ResponseBodyPlugin, AutoCloseable {
    public static final String TYPE = "session-affinity-scorer";
    public static final PluginFactory FACTORY = SessionAffinityScorer::fromConfig;
    public static final String ENCODED_ENDPOINT_HEADER = "encoded_endpoint_header";
    public static final String SESSION_ID = "session_id";
    public static final String DEFAULT_TOKEN_HEADER = "x-session-token";
    public static final String DEFAULT_SESSION_ID_HEADER = "x-session-id";

    private static final System.Logger LOG = System.getLogger(SessionAffinityScorer.class.getName());

    private final TypedName typedName;
    private final Params params;
    private final String tokenHeader;
    private final List<String> sessionIdHeaders;
    private final long ttlNanos;
    private final LongSupplier clock;
    private final ScheduledExecutorService sweeper;
    /** encoded_endpoint_header with a profile: the endpoint to write on the response, per request id. */
    private final ConcurrentHashMap<String, EndpointKey> pendingTokens = new ConcurrentHashMap<>();
    /** session_id: session -> endpoint. */
    private final ConcurrentHashMap<String, Binding> bindings = new ConcurrentHashMap<>();
    /** session_id: whether the bound endpoint was a candidate when this request was scored, per request id. */
    private final ConcurrentHashMap<String, Presence> presence = new ConcurrentHashMap<>();

    private SessionAffinityScorer(String name, Params params, LongSupplier clock, boolean startSweeper) {
        this.typedName = new TypedName(TYPE, name);
        this.params = params;
        this.tokenHeader = normalizeHeader(params.encodedEndpointHeaderConfig().header(), DEFAULT_TOKEN_HEADER);
        this.sessionIdHeaders = params.sessionIdConfig().sources().stream()
                .map(source -> normalizeHeader(source.header(), DEFAULT_SESSION_ID_HEADER))
                .toList();
        this.ttlNanos = (long) (params.sessionIdConfig().evictionTtlSeconds() * 1e9);
        this.clock = clock;
        if (startSweeper && params.strategy().equals(SESSION_ID)) {
            long sweepNanos = (long) (params.sessionIdConfig().evictionSweepSeconds() * 1e9);
            this.sweeper = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().daemon().name("session-affinity-sweep-" + name).factory());
            this.sweeper.scheduleWithFixedDelay(() -> sweep(clock.getAsLong()), sweepNanos, sweepNanos,
                    TimeUnit.NANOSECONDS);
        } else {
            this.sweeper = null;
        }
    }

    private static SessionAffinityScorer fromConfig(String name, JsonNode parameters, PluginHandle handle) {
        return create(name, PluginParameters.decode(name, parameters, Params.class));
    }

    /** A scorer; with the {@code session_id} strategy it starts a daemon thread sweeping expired sessions. */
    public static SessionAffinityScorer create(String name, Params params) {
        return new SessionAffinityScorer(name, params, System::nanoTime, true);
    }

    /** For tests: no sweeper thread, time from {@code clock} (nanoseconds); call {@link #sweep(long)}. */
    static SessionAffinityScorer withClock(String name, Params params, LongSupplier clock) {
        return new SessionAffinityScorer(name, params, clock, false);
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public ScorerCategory category() {
        return ScorerCategory.AFFINITY;
    }

    /** The base64 token {@code encoded_endpoint_header} writes for an endpoint. */
    public static String encode(EndpointKey endpoint) {
        return Base64.getEncoder().encodeToString(endpoint.toString().getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public double[] score(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
        double[] scores = new double[endpoints.size()];
        Optional<EndpointKey> preferred = params.strategy().equals(SESSION_ID)
                ? boundEndpoint(request, endpoints)
                : decodeToken(request.header(tokenHeader));
        if (preferred.isPresent()) {
            for (int i = 0; i < scores.length; i++) {
                if (endpoints.get(i).metadata().key().equals(preferred.get())) {
                    scores[i] = 1.0;
                }
            }
        }
        return scores;
    }

    @Override
    public void preRequest(LlmRequest request, SchedulingResult result, Map<String, String> headersToSet) {
        if (params.strategy().equals(SESSION_ID)) {
            bind(request, result);
        } else if (!params.profileName().isEmpty()) {
            picked(result).ifPresent(endpoint -> pendingTokens.put(request.requestId(), endpoint));
        }
    }

    @Override
    public void responseHeader(LlmRequest request, Response response, EndpointMetadata target,
                               Map<String, String> headersToSet) {
        if (params.strategy().equals(SESSION_ID)) {
            return;
        }
        EndpointKey endpoint = params.profileName().isEmpty()
                ? target.key()
                : pendingTokens.remove(request.requestId());
        if (endpoint != null) {
            headersToSet.put(tokenHeader, encode(endpoint));
        }
    }

    @Override
    public void responseBody(LlmRequest request, Response response, EndpointMetadata target) {
        if (response.endOfStream()) {
            pendingTokens.remove(request.requestId());
        }
    }

    /** Drops sessions unused for longer than the TTL and stale per-request records. */
    void sweep(long now) {
        bindings.entrySet().removeIf(entry -> now - entry.getValue().lastUsed() > ttlNanos);
        presence.entrySet().removeIf(entry -> now - entry.getValue().at() > ttlNanos);
    }

    int sessionCount() {
        return bindings.size();
    }

    @Override
    public void close() {
        if (sweeper != null) {
            sweeper.shutdownNow();
        }
    }

    private Optional<EndpointKey> decodeToken(String token) {
        if (token == null || token.isEmpty()) {
            return Optional.empty();
        }
        try {
            String decoded = new String(Base64.getDecoder().decode(token), StandardCharsets.UTF_8);
            int slash = decoded.indexOf('/');
            if (slash < 0) {
                return Optional.empty();
            }
            return Optional.of(new EndpointKey(decoded.substring(0, slash), decoded.substring(slash + 1)));
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.DEBUG, "session affinity: header {0} is not base64", tokenHeader);
            return Optional.empty();
        }
    }

    private Optional<String> sessionId(LlmRequest request) {
        for (String header : sessionIdHeaders) {
            String value = request.header(header);
            if (value != null && !value.isBlank()) {
                return Optional.of(value.strip());
            }
        }
        return Optional.empty();
    }

    private Optional<EndpointKey> boundEndpoint(LlmRequest request, List<Endpoint> endpoints) {
        Optional<String> session = sessionId(request);
        if (session.isEmpty()) {
            return Optional.empty();
        }
        Binding binding = bindings.get(session.get());
        if (binding == null) {
            return Optional.empty();
        }
        boolean candidate = false;
        for (Endpoint endpoint : endpoints) {
            if (endpoint.metadata().key().equals(binding.endpoint())) {
                candidate = true;
                break;
            }
        }
        presence.put(request.requestId(), new Presence(candidate, clock.getAsLong()));
        return candidate ? Optional.of(binding.endpoint()) : Optional.empty();
    }

    private void bind(LlmRequest request, SchedulingResult result) {
        Presence scored = presence.remove(request.requestId());
        Optional<String> session = sessionId(request);
        Optional<EndpointKey> endpoint = picked(result);
        if (session.isEmpty() || endpoint.isEmpty()) {
            return;
        }
        Binding fresh = new Binding(endpoint.get(), clock.getAsLong());
        Binding existing = bindings.putIfAbsent(session.get(), fresh);
        if (existing == null) {
            return;
        }
        if (existing.endpoint().equals(endpoint.get())) {
            bindings.replace(session.get(), existing, fresh);
            return;
        }
        // Move only on an absence this request saw itself: a missing record (another request bound the
        // session meanwhile) must not move it.
        if (scored != null && !scored.candidate()) {
            bindings.replace(session.get(), existing, fresh);
        }
    }

    private Optional<EndpointKey> picked(SchedulingResult result) {
        String profile = params.profileName().isEmpty() ? result.primaryProfileName() : params.profileName();
        ProfileRunResult run = result.profileResults().get(profile);
        if (run == null || run.failed()) {
            return Optional.empty();
        }
        return Optional.of(run.targetEndpoints().getFirst().metadata().key());
    }

    private static String normalizeHeader(String name, String fallback) {
        String header = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
        return header.isEmpty() ? fallback : header;
    }

    private record Binding(EndpointKey endpoint, long lastUsed) {
    }

    private record Presence(boolean candidate, long at) {
    }

    /**
     * Parameters, as llm-d's.
     *
     * @param strategy                    {@code encoded_endpoint_header} (default) or {@code session_id}
     * @param profileName                 pin the target of this profile instead of the primary one (e.g.
     *                                    {@code prefill}); empty = primary
     * @param encodedEndpointHeaderConfig {@code header}: request and response header with the token
     *                                    ({@code x-session-token})
     * @param sessionIdConfig             {@code sources}, {@code evictionTtlSeconds} (300),
     *                                    {@code evictionSweepSeconds} (10)
     */
    public record Params(String strategy, String profileName, EncodedEndpointHeaderConfig encodedEndpointHeaderConfig,
                         SessionIdConfig sessionIdConfig) {
        public static final Params DEFAULTS = new Params(null, null, null, null);

        public Params {
            strategy = strategy == null || strategy.isEmpty() ? ENCODED_ENDPOINT_HEADER : strategy;
            profileName = profileName == null ? "" : profileName;
            encodedEndpointHeaderConfig = encodedEndpointHeaderConfig == null
                    ? new EncodedEndpointHeaderConfig(null) : encodedEndpointHeaderConfig;
            sessionIdConfig = sessionIdConfig == null ? new SessionIdConfig(null, null, null) : sessionIdConfig;
            if (!strategy.equals(ENCODED_ENDPOINT_HEADER) && !strategy.equals(SESSION_ID)) {
                throw new IllegalArgumentException("strategy must be \"" + ENCODED_ENDPOINT_HEADER + "\" or \""
                        + SESSION_ID + "\", got \"" + strategy + "\"");
            }
            if (strategy.equals(SESSION_ID)) {
                sessionIdConfig.validate();
            }
        }
    }

    /** @param header request and response header carrying the token ({@code x-session-token}) */
    public record EncodedEndpointHeaderConfig(String header) {
        public EncodedEndpointHeaderConfig {
            header = header == null || header.isBlank() ? DEFAULT_TOKEN_HEADER : header;
        }
    }

    /**
     * @param sources              where the session id is read, in order; default one header source
     *                             {@code x-session-id}
     * @param evictionTtlSeconds   how long an unused session stays bound (300); 0 means the default
     * @param evictionSweepSeconds how often expired sessions are dropped (10); 0 means the default
     */
    public record SessionIdConfig(List<SessionIdSource> sources, Double evictionTtlSeconds,
                                  Double evictionSweepSeconds) {
        public SessionIdConfig {
            sources = sources == null || sources.isEmpty()
                    ? List.of(new SessionIdSource(DEFAULT_SESSION_ID_HEADER, null, null))
                    : List.copyOf(sources);
            evictionTtlSeconds = evictionTtlSeconds == null || evictionTtlSeconds == 0 ? 300.0 : evictionTtlSeconds;
            evictionSweepSeconds = evictionSweepSeconds == null || evictionSweepSeconds == 0
                    ? 10.0 : evictionSweepSeconds;
        }

        void validate() {
            for (int i = 0; i < sources.size(); i++) {
                SessionIdSource source = sources.get(i);
                boolean header = !source.header().isEmpty();
                boolean attribute = !source.attribute().isEmpty();
                if (header == attribute) {
                    throw new IllegalArgumentException("sessionIdConfig.sources[" + i
                            + "]: exactly one of header or attribute must be set");
                }
                if (attribute) {
                    throw new IllegalArgumentException("sessionIdConfig.sources[" + i + "]: attribute sources are "
                            + "not supported (no plugin publishes request attributes here); use a header source");
                }
            }
            if (!(evictionTtlSeconds > 0) || evictionTtlSeconds.isInfinite()) {
                throw new IllegalArgumentException("evictionTtlSeconds must be > 0, got " + evictionTtlSeconds);
            }
            if (!(evictionSweepSeconds > 0) || evictionSweepSeconds.isInfinite()) {
                throw new IllegalArgumentException("evictionSweepSeconds must be > 0, got " + evictionSweepSeconds);
            }
        }
    }

    /**
     * One place to read the session id from: exactly one of {@code header} and {@code attribute}
     * ({@code producer} qualifies an attribute). Only header sources are supported.
     */
    public record SessionIdSource(String header, String attribute, String producer) {
        public SessionIdSource {
            header = Objects.requireNonNullElse(header, "");
            attribute = Objects.requireNonNullElse(attribute, "");
            producer = Objects.requireNonNullElse(producer, "");
        }
    }
}
