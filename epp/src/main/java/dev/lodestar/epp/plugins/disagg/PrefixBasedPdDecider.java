package dev.lodestar.epp.plugins.disagg;

import dev.lodestar.epp.framework.datalayer.AttributeKey;
import dev.lodestar.epp.framework.plugin.ConsumerPlugin;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.plugins.attributes.PrefixCacheMatchInfo;
import dev.lodestar.epp.prefix.BlockHashChain;

import java.util.Optional;
import java.util.Set;

/**
 * {@code prefix-based-pd-decider} (llm-d): disaggregate when the prompt part the chosen decode endpoint
 * has not cached is long enough. Prompt tokens are estimated as the approximate prefix producer counts
 * them: bytes of the hashed prefix input / 4, rounded up (llm-d's {@code estimate} tokenizer). Cached
 * tokens = the decode endpoint's matched blocks x block size in tokens, from
 * {@code approx-prefix-cache-producer}'s {@link PrefixCacheMatchInfo}.
 *
 * <p>No: {@code nonCachedTokens} is 0; {@code promptTokens} > 0 and the prompt is shorter; the prompt is
 * shorter than {@code nonCachedTokens}; the decode endpoint has no match info. Yes iff
 * {@code prompt - cached >= nonCachedTokens}.
 */
public final class PrefixBasedPdDecider implements Decider, ConsumerPlugin {
    public static final String TYPE = "prefix-based-pd-decider";
    public static final PluginFactory FACTORY = (name, parameters, handle) ->
            new PrefixBasedPdDecider(name, PluginParameters.decode(name, parameters, Params.class));

    private static final System.Logger LOG = System.getLogger(PrefixBasedPdDecider.class.getName());

    private final TypedName typedName;
    private final Params params;
    private final AttributeKey<PrefixCacheMatchInfo> key = PrefixCacheMatchInfo.key(PrefixCacheMatchInfo.DEFAULT_PRODUCER);

    public PrefixBasedPdDecider(String name, Params params) {
        this.typedName = new TypedName(TYPE, name);
        this.params = params;
        if (params.nonCachedTokens() == 0) {
            LOG.log(System.Logger.Level.INFO, "plugin ''{0}'': prefix-based P/D disabled (nonCachedTokens=0)", name);
        }
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    public Params params() {
        return params;
    }

    @Override
    public Set<String> consumes() {
        return Set.of(key.name());
    }

    /** The prompt's length in tokens as estimated from the prefix producer's input (4 bytes a token). */
    static long promptTokens(LlmRequest request) {
        long bytes = request.body().prefixHashInput().length;
        return (bytes + BlockHashChain.CHARS_PER_TOKEN - 1) / BlockHashChain.CHARS_PER_TOKEN;
    }

    @Override
    public boolean disaggregate(LlmRequest request, Optional<Endpoint> decodeEndpoint) {
        if (params.nonCachedTokens() == 0) {
            return false;
        }
        if (decodeEndpoint.isEmpty()) {
            LOG.log(System.Logger.Level.ERROR, "prefix decider {0}: no decode endpoint", typedName);
            return false;
        }
        long input = promptTokens(request);
        if (params.promptTokens() > 0 && input < params.promptTokens()) {
            return false;
        }
        if (input < params.nonCachedTokens()) {
            return false;
        }
        Optional<PrefixCacheMatchInfo> match = decodeEndpoint.get().attribute(key);
        if (match.isEmpty()) {
            LOG.log(System.Logger.Level.ERROR, "prefix decider {0}: unable to read prefix cache state of {1}",
                    typedName, decodeEndpoint.get());
            return false;
        }
        long cached = (long) match.get().matchBlocks() * match.get().blockSizeTokens();
        return input - cached >= params.nonCachedTokens();
    }

    /**
     * @param nonCachedTokens uncached prompt tokens that make a request disaggregate (0 = never)
     * @param promptTokens    prompts shorter than this never disaggregate (0 = no gate)
     */
    public record Params(Integer nonCachedTokens, Integer promptTokens) {
        public Params {
            nonCachedTokens = nonCachedTokens == null ? 0 : nonCachedTokens;
            promptTokens = promptTokens == null ? 0 : promptTokens;
            if (nonCachedTokens < 0) {
                throw new IllegalArgumentException(
                        "nonCachedTokens parameter of prefix disaggregation decider cannot be negative");
            }
            if (promptTokens < 0) {
                throw new IllegalArgumentException(
                        "promptTokens parameter of prefix disaggregation decider cannot be negative");
            }
        }
    }
}
