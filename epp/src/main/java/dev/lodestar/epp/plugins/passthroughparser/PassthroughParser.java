package dev.lodestar.epp.plugins.passthroughparser;

import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.Usage;
import dev.lodestar.epp.framework.requesthandling.Parser;
import dev.lodestar.epp.framework.scheduling.LlmRequestBody;

import java.util.Map;
import java.util.Optional;

/**
 * {@code passthrough-parser}: treats the body as opaque bytes. The request is scheduled without a model
 * or prompt and forwarded byte for byte; responses are not read.
 */
public final class PassthroughParser implements Parser {
    public static final String TYPE = "passthrough-parser";
    public static final PluginFactory FACTORY = (name, parameters, handle) -> {
        PluginParameters.decode(name, parameters, NoParameters.class);
        return new PassthroughParser(name);
    };

    private final TypedName typedName;

    public PassthroughParser(String name) {
        this.typedName = new TypedName(TYPE, name);
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public LlmRequestBody parseRequest(byte[] body, Map<String, String> headers) {
        return LlmRequestBody.opaque(body);
    }

    @Override
    public Optional<Usage> parseResponse(byte[] body, boolean streaming) {
        return Optional.empty();
    }

    @Override
    public boolean rewritesModel() {
        return false;
    }

    record NoParameters() {
    }
}
