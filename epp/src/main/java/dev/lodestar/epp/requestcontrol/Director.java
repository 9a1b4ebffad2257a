package dev.lodestar.epp.requestcontrol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lodestar.epp.datastore.Datastore;
import dev.lodestar.epp.datastore.EndpointState;
import dev.lodestar.epp.datastore.ModelRewrites;
import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.requestcontrol.AdmissionPlugin;
import dev.lodestar.epp.framework.requestcontrol.PrepareDataPlugin;
import dev.lodestar.epp.framework.requestcontrol.PreRequestPlugin;
import dev.lodestar.epp.framework.requestcontrol.Response;
import dev.lodestar.epp.framework.requestcontrol.ResponseBodyPlugin;
import dev.lodestar.epp.framework.requestcontrol.ResponseHeaderPlugin;
import dev.lodestar.epp.framework.requesthandling.Parser;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.LlmRequestBody;
import dev.lodestar.epp.framework.scheduling.PluginTimer;
import dev.lodestar.epp.framework.scheduling.Scheduler;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Turns a received request into a routing decision, as GIE's Director: parse, model rewrite, objective,
 * admission, candidates, data preparation, admission plugins, scheduling, pre-request plugins, body
 * re-serialization. Also runs the response-phase plugins. Pure Java: the ext_proc adapter translates
 * Envoy messages into calls on this class.
 */
public final class Director {
    private static final Logger LOGGER = Logger.getLogger(Director.class.getName());

    private final Datastore datastore;
    private final Parser parser;
    private final Scheduler scheduler;
    private final AdmissionController admission;
    private final EndpointCandidates candidates;
    private final List<PrepareDataPlugin> prepareDataPlugins;
    private final List<AdmissionPlugin> admissionPlugins;
    private final List<PreRequestPlugin> preRequestPlugins;
    private final List<ResponseHeaderPlugin> responseHeaderPlugins;
    private final List<ResponseBodyPlugin> responseBodyPlugins;
    private final RequestRecorder recorder;
    private final PluginTimer timer;
    private final Supplier<RandomGenerator> random;
    private final long prepareDataBudgetNanos;

    private Director(Builder builder) {
        this.datastore = Objects.requireNonNull(builder.datastore, "datastore");
        this.parser = Objects.requireNonNull(builder.parser, "parser");
        this.scheduler = Objects.requireNonNull(builder.scheduler, "scheduler");
        this.admission = builder.admission;
        this.candidates = new EndpointCandidates(datastore, builder.disableSubsetFilter);
        this.prepareDataPlugins = List.copyOf(builder.prepareDataPlugins);
        this.admissionPlugins = List.copyOf(builder.admissionPlugins);
        this.preRequestPlugins = List.copyOf(builder.preRequestPlugins);
        this.responseHeaderPlugins = List.copyOf(builder.responseHeaderPlugins);
        this.responseBodyPlugins = List.copyOf(builder.responseBodyPlugins);
        this.recorder = builder.recorder;
        this.timer = builder.timer;
        this.random = builder.random;
        this.prepareDataBudgetNanos = builder.prepareDataBudgetNanos;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Parser parser() {
        return parser;
    }

    /**
     * Routes a request whose headers and whole body are in {@code context}; on return the context holds
     * the destination, the target endpoint, the body to forward and the extra headers to set.
     *
     * @throws InferenceException when the request cannot be routed; its code decides the client's status
     */
    public void handleRequest(RequestContext context) {
        LlmRequestBody body;
        try {
            body = parser.parseRequest(context.requestBody(), context.requestHeaders());
        } catch (InferenceException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new InferenceException(ErrorCode.BAD_REQUEST, e.getMessage(), e);
        }
        if (parser.rewritesModel() && body.payload().isPresent()) {
            rewriteModel(context, body.payload().get());
        } else {
            // As GIE: the rewrite header names the target model whatever the parser; rules need a parsed model.
            context.targetModel(context.modelRewriteHeader());
        }
        // An InferenceModel's criticality (older API) applies when no InferenceObjective is named or known.
        OptionalInt objectivePriority = datastore.objectivePriority(context.objectiveKey());
        int priority = objectivePriority.isPresent() ? objectivePriority.getAsInt()
                : datastore.modelPriority(context.incomingModel()).orElse(0);
        context.priority(priority);
        Map<String, String> schedulingHeaders = new LinkedHashMap<>();
        context.requestHeaders().forEach((name, value) -> {
            if (!RequestControlHeaders.systemOwned(name)) {
                schedulingHeaders.put(name, value);
            }
        });
        LlmRequest request = new LlmRequest(context.requestId(), context.incomingModel(), context.targetModel(), body,
                schedulingHeaders, priority, context.fairnessId(), context.requestBody().length);
        context.llmRequest(request);

        List<Endpoint> endpoints = candidates.locate(context.subsetHint());
        admission.admit(request, endpoints);
        if (endpoints.isEmpty()) {
            throw new InferenceException(ErrorCode.SERVICE_UNAVAILABLE,
                    "failed to find endpoint candidates for serving the request");
        }
        prepareData(request, endpoints);
        for (AdmissionPlugin plugin : admissionPlugins) {
            Optional<String> refusal = refusal(plugin, request, endpoints);
            if (refusal.isPresent()) {
                LOGGER.fine(() -> "admission plugin " + plugin.typedName() + " refused " + request.requestId()
                        + ": " + refusal.get());
                throw new InferenceException(ErrorCode.INTERNAL, "request cannot be admitted");
            }
        }
        SchedulingResult result = schedule(request, endpoints);
        List<Endpoint> targets = result.primary().targetEndpoints();
        List<String> destinations = new ArrayList<>(targets.size());
        for (Endpoint target : targets) {
            destinations.add(target.metadata().hostPort());
        }
        context.route(String.join(",", destinations), targets.getFirst().metadata());
        for (PreRequestPlugin plugin : preRequestPlugins) {
            long start = System.nanoTime();
            try {
                plugin.preRequest(request, result, context.headersToSet());
            } catch (RuntimeException e) {
                // GIE's PreRequest has no failure path: the scheduled request is sent whatever a plugin does.
                LOGGER.log(Level.WARNING, "pre-request plugin " + plugin.typedName() + " failed for "
                        + request.requestId(), e);
            }
            timer.record("PreRequest", plugin.typedName(), System.nanoTime() - start);
        }
        if (parser.rewritesModel() && body.payload().isPresent()) {
            try {
                context.requestBody(GoJson.marshal(body.payload().get(), body.raw().length));
            } catch (IllegalArgumentException e) {
                throw new InferenceException(ErrorCode.INTERNAL, "Error marshalling request body", e);
            }
        }
    }

    /** A uniformly random endpoint of the pool, for requests without a body; empty when the pool is empty. */
    public Optional<EndpointMetadata> randomEndpoint() {
        List<EndpointState> endpoints = datastore.endpoints();
        if (endpoints.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(endpoints.get(random.get().nextInt(endpoints.size())).metadata());
    }

    /**
     * Runs the response-header plugins; returns the headers they want set on the client's response.
     *
     * @param metadataHeaders what the proxy reported in metadata (e.g. the served endpoint), shown to the
     *                        plugins as extra headers; never sent to the client
     */
    public Map<String, String> handleResponseHeaders(RequestContext context, Map<String, String> metadataHeaders) {
        Map<String, String> headersToSet = new LinkedHashMap<>();
        Optional<LlmRequest> request = context.llmRequest();
        Optional<EndpointMetadata> target = context.targetEndpoint();
        if (request.isEmpty() || target.isEmpty()) {
            return headersToSet;
        }
        Map<String, String> headers = new LinkedHashMap<>(context.responseHeaders());
        headers.putAll(metadataHeaders);
        Response response = new Response(context.requestId(), headers, false, context.usage().orElse(null));
        for (ResponseHeaderPlugin plugin : responseHeaderPlugins) {
            long start = System.nanoTime();
            try {
                plugin.responseHeader(request.get(), response, target.get(), headersToSet);
            } catch (RuntimeException e) {
                // As upstream, the response phase never fails the stream: closing it early while the proxy
                // still sends the body can stall the whole HTTP/2 connection in Helidon 4.4.
                LOGGER.log(Level.WARNING, "response plugin " + plugin.typedName() + " failed", e);
            }
            timer.record("ResponseReceived", plugin.typedName(), System.nanoTime() - start);
        }
        return headersToSet;
    }

    /**
     * Runs the response-body plugins for one chunk (or the whole buffered body); the call with
     * {@code endOfStream} is the last. Returns the dynamic metadata the plugins added.
     */
    public Map<String, Map<String, Object>> handleResponseBody(RequestContext context, boolean endOfStream) {
        Optional<LlmRequest> request = context.llmRequest();
        Optional<EndpointMetadata> target = context.targetEndpoint();
        if (request.isEmpty() || target.isEmpty()) {
            return Map.of();
        }
        Response response = new Response(context.requestId(), context.responseHeaders(), endOfStream,
                context.usage().orElse(null));
        for (ResponseBodyPlugin plugin : responseBodyPlugins) {
            long start = System.nanoTime();
            try {
                plugin.responseBody(request.get(), response, target.get());
            } catch (RuntimeException e) {
                LOGGER.log(Level.WARNING, "response plugin " + plugin.typedName() + " failed", e);
            }
            timer.record("ResponseStreaming", plugin.typedName(), System.nanoTime() - start);
        }
        return response.dynamicMetadata();
    }

    private void rewriteModel(RequestContext context, ObjectNode payload) {
        JsonNode model = payload.get("model");
        if (model == null || !model.isTextual()) {
            throw new InferenceException(ErrorCode.BAD_REQUEST, "model not found in request body");
        }
        String incoming = model.asText();
        context.incomingModel(incoming);
        String target = context.modelRewriteHeader().isEmpty() ? incoming : context.modelRewriteHeader();
        ModelRewrites rewrites = datastore.rewrites();
        if (!rewrites.isEmpty()) {
            Optional<ModelRewrites.Decision> decision = rewrites.rewrite(incoming, random.get());
            if (decision.isPresent()) {
                target = decision.get().targetModel();
                recorder.modelRewrite(decision.get().rewriteName(), incoming, target);
            }
        }
        context.targetModel(target);
        payload.put("model", target);
    }

    /** Why {@code plugin} refuses the request, if it does; a plugin that fails refuses. */
    private static Optional<String> refusal(AdmissionPlugin plugin, LlmRequest request, List<Endpoint> endpoints) {
        try {
            return plugin.admitRequest(request, endpoints);
        } catch (RuntimeException e) {
            LOGGER.log(Level.WARNING, "admission plugin " + plugin.typedName() + " failed for " + request.requestId(), e);
            return Optional.of(String.valueOf(e));
        }
    }

    private void prepareData(LlmRequest request, List<Endpoint> endpoints) {
        long started = System.nanoTime();
        for (PrepareDataPlugin plugin : prepareDataPlugins) {
            long start = System.nanoTime();
            try {
                plugin.prepareRequestData(request, endpoints);
            } catch (RuntimeException e) {
                LOGGER.log(Level.WARNING, "data producer " + plugin.typedName() + " failed for "
                        + request.requestId(), e);
            }
            timer.record("PrepareData", plugin.typedName(), System.nanoTime() - start);
        }
        long elapsed = System.nanoTime() - started;
        if (elapsed > prepareDataBudgetNanos) {
            LOGGER.warning(() -> "data preparation took " + elapsed / 1_000_000 + " ms for " + request.requestId()
                    + " (budget " + prepareDataBudgetNanos / 1_000_000 + " ms)");
        }
    }

    private SchedulingResult schedule(LlmRequest request, List<Endpoint> endpoints) {
        long start = System.nanoTime();
        SchedulingResult result;
        try {
            result = scheduler.schedule(request, endpoints);
        } catch (InferenceException e) {
            recorder.schedulingAttempt(request.targetModel(), System.nanoTime() - start, false, "", "", 0);
            // Profile handlers already word their failure as upstream's ("failed to find target endpoint: ...").
            throw e.code() == ErrorCode.RESOURCE_EXHAUSTED ? e : new InferenceException(ErrorCode.RESOURCE_EXHAUSTED,
                    "failed to find target endpoint: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // A plugin broke its contract (upstream's would panic); the client gets a 500, the EPP keeps serving.
            recorder.schedulingAttempt(request.targetModel(), System.nanoTime() - start, false, "", "", 0);
            LOGGER.log(Level.SEVERE, "scheduling failed for " + request.requestId(), e);
            throw new InferenceException(ErrorCode.INTERNAL, "failed to schedule the request: " + e, e);
        }
        if (result.primary().failed()) {
            recorder.schedulingAttempt(request.targetModel(), System.nanoTime() - start, false, "", "", 0);
            throw new InferenceException(ErrorCode.RESOURCE_EXHAUSTED, "failed to find target endpoint: primary profile '"
                    + result.primaryProfileName() + "' has no target endpoint");
        }
        EndpointMetadata target = result.primary().targetEndpoints().getFirst().metadata();
        recorder.schedulingAttempt(request.targetModel(), System.nanoTime() - start, true, target.podName(),
                target.key().namespace(), target.port());
        return result;
    }

    /** Decides whether a request is admitted before scheduling (legacy shedding, or flow control later). */
    @FunctionalInterface
    public interface AdmissionController {
        AdmissionController ALWAYS = (request, endpoints) -> {
        };

        /**
         * @throws InferenceException when the request is refused (e.g. 429 for a shed request)
         */
        void admit(LlmRequest request, List<Endpoint> endpoints);
    }

    /** Builder; parser, scheduler and datastore are required. */
    public static final class Builder {
        private Datastore datastore;
        private Parser parser;
        private Scheduler scheduler;
        private AdmissionController admission = AdmissionController.ALWAYS;
        private boolean disableSubsetFilter;
        private List<PrepareDataPlugin> prepareDataPlugins = List.of();
        private List<AdmissionPlugin> admissionPlugins = List.of();
        private List<PreRequestPlugin> preRequestPlugins = List.of();
        private List<ResponseHeaderPlugin> responseHeaderPlugins = List.of();
        private List<ResponseBodyPlugin> responseBodyPlugins = List.of();
        private RequestRecorder recorder = RequestRecorder.NONE;
        private PluginTimer timer = PluginTimer.NONE;
        private Supplier<RandomGenerator> random = ThreadLocalRandom::current;
        private long prepareDataBudgetNanos = 400_000_000L;

        private Builder() {
        }

        public Builder datastore(Datastore datastore) {
            this.datastore = datastore;
            return this;
        }

        public Builder parser(Parser parser) {
            this.parser = parser;
            return this;
        }

        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = scheduler;
            return this;
        }

        public Builder admission(AdmissionController admission) {
            this.admission = Objects.requireNonNull(admission);
            return this;
        }

        /** {@code --disable-endpoint-subset-filter}: ignore the proxy's subset hint. */
        public Builder disableSubsetFilter(boolean disable) {
            this.disableSubsetFilter = disable;
            return this;
        }

        public Builder prepareDataPlugins(List<PrepareDataPlugin> plugins) {
            this.prepareDataPlugins = plugins;
            return this;
        }

        public Builder admissionPlugins(List<AdmissionPlugin> plugins) {
            this.admissionPlugins = plugins;
            return this;
        }

        public Builder preRequestPlugins(List<PreRequestPlugin> plugins) {
            this.preRequestPlugins = plugins;
            return this;
        }

        public Builder responseHeaderPlugins(List<ResponseHeaderPlugin> plugins) {
            this.responseHeaderPlugins = plugins;
            return this;
        }

        public Builder responseBodyPlugins(List<ResponseBodyPlugin> plugins) {
            this.responseBodyPlugins = plugins;
            return this;
        }

        public Builder recorder(RequestRecorder recorder) {
            this.recorder = Objects.requireNonNull(recorder);
            return this;
        }

        public Builder timer(PluginTimer timer) {
            this.timer = Objects.requireNonNull(timer);
            return this;
        }

        /**
         * Random source for rewrite draws and header-only picks, asked once per use (the default gives the
         * calling thread's {@link ThreadLocalRandom}); tests pass a seeded one.
         */
        public Builder random(Supplier<RandomGenerator> random) {
            this.random = Objects.requireNonNull(random);
            return this;
        }

        public Director build() {
            return new Director(this);
        }
    }
}
