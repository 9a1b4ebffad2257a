package dev.lodestar.epp.plugins.disagg;

import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;

import java.util.Optional;

/** {@code always-disagg-pd-decider} (llm-d): every request disaggregates. */
public final class AlwaysDisaggPdDecider implements Decider {
    public static final String TYPE = "always-disagg-pd-decider";
    public static final PluginFactory FACTORY = (name, parameters, handle) -> {
        PluginParameters.decode(name, parameters, Params.class);
        return new AlwaysDisaggPdDecider(name);
    };

    /** No parameters; any field is an error. */
    public record Params() {
    }

    private final TypedName typedName;

    public AlwaysDisaggPdDecider(String name) {
        this.typedName = new TypedName(TYPE, name);
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public boolean disaggregate(LlmRequest request, Optional<Endpoint> decodeEndpoint) {
        return true;
    }
}
