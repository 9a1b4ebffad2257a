package dev.lodestar.epp.plugins.labelselectorfilter;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.Filter;
import dev.lodestar.epp.framework.scheduling.LlmRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Keeps the endpoints whose pod labels match a Kubernetes label selector: every {@code matchLabels} pair
 * and every {@code matchExpressions} requirement ({@code In}, {@code NotIn}, {@code Exists},
 * {@code DoesNotExist}) must hold. An empty selector keeps every endpoint. Also registered under llm-d's
 * deprecated type name {@code by-label-selector}, which instances created through it report as their type.
 */
public final class LabelSelectorFilter implements Filter {
    public static final String TYPE = "label-selector-filter";
    /** The type's name before llm-d v0.9. */
    public static final String DEPRECATED_TYPE = "by-label-selector";
    public static final PluginFactory FACTORY = (name, parameters, handle) -> create(TYPE, name, parameters);
    public static final PluginFactory DEPRECATED_FACTORY = (name, parameters, handle) -> {
        System.getLogger(LabelSelectorFilter.class.getName()).log(System.Logger.Level.WARNING,
                "plugin type ''{0}'' is deprecated, use ''{1}'' instead", DEPRECATED_TYPE, TYPE);
        return create(DEPRECATED_TYPE, name, parameters);
    };

    private final TypedName typedName;
    private final LabelSelector selector;

    private LabelSelectorFilter(String type, String name, LabelSelector selector) {
        this.typedName = new TypedName(type, name);
        this.selector = Objects.requireNonNull(selector, "selector").validated();
    }

    /**
     * @throws IllegalArgumentException when the selector is invalid
     */
    public LabelSelectorFilter(String name, LabelSelector selector) {
        this(TYPE, name, selector);
    }

    private static LabelSelectorFilter create(String type, String name, JsonNode parameters) {
        LabelSelector selector = PluginParameters.decode(name, parameters, LabelSelector.class);
        try {
            return new LabelSelectorFilter(type, name, selector);
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException("plugin '" + name + "': " + e.getMessage(), e);
        }
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    public LabelSelector selector() {
        return selector;
    }

    @Override
    public List<Endpoint> filter(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
        List<Endpoint> kept = new ArrayList<>(endpoints.size());
        for (Endpoint endpoint : endpoints) {
            Map<String, String> labels = endpoint.metadata().labels();
            if (selector.matches(labels)) {
                kept.add(endpoint);
            }
        }
        return kept;
    }
}
