package dev.lodestar.epp.plugins.requestattributereporter;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.Response;
import dev.lodestar.epp.framework.requestcontrol.ResponseBodyPlugin;
import dev.lodestar.epp.framework.requestcontrol.Usage;
import dev.lodestar.epp.framework.scheduling.LlmRequest;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Reports a number computed from the response's token usage to the proxy as dynamic metadata
 * ({@code <namespace>/<name>}, {@code envoy.lb} by default), e.g. a request cost for rate limiting.
 *
 * <p>Both the value and the optional condition are CEL expressions over one variable, {@code usage}: the usage
 * as a JSON object, as upstream sees it (numbers are doubles): {@code prompt_tokens}, {@code completion_tokens}
 * and {@code total_tokens} are always present (0 before the server reported usage), and
 * {@code prompt_token_details.cached_tokens} when cached tokens were reported. The expressions are compiled once,
 * when the plugin is created; a compile error is a configuration error.
 *
 * <p>Runs on every response-body call (each chunk of a stream, the whole body otherwise), with the usage seen so
 * far, and writes into that call's metadata, which rides on its last response-body message. Nothing is reported
 * when the condition is not {@code true}, when evaluation fails, when the value is not an int or a double, or when
 * it truncates to 0 (or to -1, which upstream uses internally as its error marker). A double is truncated towards
 * zero. Failures are logged; they never fail the request.
 */
public final class RequestAttributeReporter implements ResponseBodyPlugin {
    public static final String TYPE = "request-attribute-reporter";
    public static final String DEFAULT_NAMESPACE = "envoy.lb";
    public static final PluginFactory FACTORY = (name, parameters, handle) ->
            new RequestAttributeReporter(name, PluginParameters.decode(name, parameters, Params.class));

    private static final Logger LOGGER = Logger.getLogger(RequestAttributeReporter.class.getName());
    private static final String USAGE = "usage";
    /** Upstream's "not a number" marker: a value truncating to it is never reported. */
    private static final long UPSTREAM_ERROR_MARKER = -1;

    // cel-go compares a dyn double with an int literal (usage.completion_tokens > 0); cel-java needs the option.
    private static final CelOptions OPTIONS = CelOptions.current().enableHeterogeneousNumericComparisons(true).build();
    private static final CelCompiler COMPILER = CelCompilerFactory.standardCelCompilerBuilder()
            .setOptions(OPTIONS)
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addVar(USAGE, MapType.create(SimpleType.STRING, SimpleType.DYN))
            .build();
    private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().setOptions(OPTIONS).build();

    /** The plugin's parameters, upstream's shape: exactly one attribute. */
    public record Params(List<Attribute> attributes) {
        public Params {
            attributes = attributes == null ? List.of() : List.copyOf(attributes);
        }
    }

    /**
     * One reported attribute.
     *
     * @param key        where in the dynamic metadata the value goes
     * @param expression CEL over {@code usage}, an int or a double (required)
     * @param condition  CEL over {@code usage}, a bool; the value is reported only when it is {@code true} (optional)
     */
    public record Attribute(Key key, String expression, String condition) {
    }

    /**
     * @param namespace the dynamic-metadata namespace, {@value #DEFAULT_NAMESPACE} when empty
     * @param name      the key inside the namespace (required)
     */
    public record Key(String namespace, String name) {
    }

    private final TypedName typedName;
    private final String namespace;
    private final String name;
    private final String expression;
    private final Optional<String> condition;
    private final CelRuntime.Program expressionProgram;
    private final Optional<CelRuntime.Program> conditionProgram;

    public RequestAttributeReporter(String pluginName, Params params) {
        this.typedName = new TypedName(TYPE, pluginName);
        if (params.attributes().size() != 1) {
            throw invalid(pluginName, "attributes must contain exactly one entry, got " + params.attributes().size());
        }
        Attribute attribute = params.attributes().getFirst();
        if (attribute == null || attribute.key() == null || isEmpty(attribute.key().name())) {
            throw invalid(pluginName, "attributes[0].key.name cannot be empty");
        }
        if (isEmpty(attribute.expression())) {
            throw invalid(pluginName, "attributes[0].expression cannot be empty");
        }
        this.namespace = isEmpty(attribute.key().namespace()) ? DEFAULT_NAMESPACE : attribute.key().namespace();
        this.name = attribute.key().name();
        this.expression = attribute.expression();
        this.condition = Optional.ofNullable(attribute.condition()).filter(text -> !text.isEmpty());
        this.expressionProgram = compile(pluginName, "expression", expression);
        this.conditionProgram = condition.map(text -> compile(pluginName, "condition", text));
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    public String namespace() {
        return namespace;
    }

    public String name() {
        return name;
    }

    @Override
    public void responseBody(LlmRequest request, Response response, EndpointMetadata target) {
        Map<String, Object> activation = Map.of(USAGE, usageObject(response.usage()));
        if (conditionProgram.isPresent()) {
            Optional<Object> met = evaluate(conditionProgram.get(), activation, "condition", condition.get(), response);
            if (met.isEmpty()) {
                return;
            }
            if (!Boolean.TRUE.equals(met.get())) {
                if (LOGGER.isLoggable(Level.FINE)) {
                    LOGGER.fine(typedName + ": condition not met for " + response.requestId() + ": " + condition.get());
                }
                return;
            }
        }
        Optional<Object> result = evaluate(expressionProgram, activation, "expression", expression, response);
        if (result.isEmpty()) {
            return;
        }
        long value;
        if (result.get() instanceof Long integer) {
            value = integer;
        } else if (result.get() instanceof Double number && Double.isFinite(number)) {
            value = (long) number.doubleValue();
        } else {
            LOGGER.warning(typedName + ": expression result " + result.get() + " (" + result.get().getClass().getSimpleName()
                    + ") is not an int or a finite double, nothing reported for " + response.requestId() + ": "
                    + expression);
            return;
        }
        if (value == 0 || value == UPSTREAM_ERROR_MARKER) {
            return;
        }
        response.putMetadata(namespace, name, (double) value);
    }

    private Optional<Object> evaluate(CelRuntime.Program program, Map<String, Object> activation, String what,
                                      String text, Response response) {
        try {
            return Optional.of(program.eval(activation));
        } catch (CelEvaluationException | RuntimeException e) {
            LOGGER.log(Level.WARNING, typedName + ": evaluating the " + what + " failed for " + response.requestId()
                    + ", nothing reported: " + text + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    /** The usage as upstream hands it to CEL: its JSON form, numbers as doubles. */
    static Map<String, Object> usageObject(Optional<Usage> reported) {
        Usage usage = reported.orElse(new Usage(0, 0, 0, 0));
        if (usage.cachedTokens() > 0) {
            return Map.of("prompt_tokens", (double) usage.promptTokens(),
                    "completion_tokens", (double) usage.completionTokens(),
                    "total_tokens", (double) usage.totalTokens(),
                    "prompt_token_details", Map.of("cached_tokens", (double) usage.cachedTokens()));
        }
        return Map.of("prompt_tokens", (double) usage.promptTokens(),
                "completion_tokens", (double) usage.completionTokens(),
                "total_tokens", (double) usage.totalTokens());
    }

    private static CelRuntime.Program compile(String pluginName, String what, String text) {
        CelAbstractSyntaxTree ast;
        try {
            ast = COMPILER.compile(text).getAst();
        } catch (CelValidationException e) {
            throw invalid(pluginName, "failed to compile " + what + " '" + text.strip() + "': " + e.getMessage(), e);
        }
        try {
            return RUNTIME.createProgram(ast);
        } catch (CelEvaluationException e) {
            throw invalid(pluginName, "failed to create program for " + what + " '" + text.strip() + "': "
                    + e.getMessage(), e);
        }
    }

    private static boolean isEmpty(String text) {
        return text == null || text.isEmpty();
    }

    private static InvalidConfigException invalid(String pluginName, String message) {
        return new InvalidConfigException("plugin '" + pluginName + "' (" + TYPE + "): " + message);
    }

    private static InvalidConfigException invalid(String pluginName, String message, Throwable cause) {
        return new InvalidConfigException("plugin '" + pluginName + "' (" + TYPE + "): " + message, cause);
    }
}
