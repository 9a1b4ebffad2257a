package dev.lodestar.epp.plugins.singleprofilehandler;

import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.ProfileHandler;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulerProfile;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;

import java.util.Map;

/**
 * Runs every configured profile once and expects exactly one result, which becomes the primary.
 *
 * <p>Failures carry the message the client sees upstream, where the director wraps the handler's
 * error as {@code failed to find target endpoint: <error>} with code {@code ResourceExhausted} (429);
 * the director must pass these exceptions through unchanged.
 */
public final class SingleProfileHandler implements ProfileHandler {
    public static final String TYPE = "single-profile-handler";
    public static final PluginFactory FACTORY = (name, parameters, handle) -> {
        PluginParameters.decode(name, parameters, Params.class);
        return new SingleProfileHandler(name);
    };

    /** The handler takes no parameters; any field is an error. */
    public record Params() {
    }

    private static final String FAILURE_PREFIX = "failed to find target endpoint: ";

    private final TypedName typedName;

    public SingleProfileHandler(String name) {
        this.typedName = new TypedName(TYPE, name);
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public Map<String, SchedulerProfile> pick(CycleState state, LlmRequest request, Map<String, SchedulerProfile> profiles,
                                              Map<String, ProfileRunResult> results) {
        return results.size() == profiles.size() ? Map.of() : profiles;
    }

    @Override
    public SchedulingResult processResults(CycleState state, LlmRequest request, Map<String, ProfileRunResult> results) {
        if (results.size() != 1) {
            throw new InferenceException(ErrorCode.RESOURCE_EXHAUSTED, FAILURE_PREFIX
                    + "single profile handler is intended to be used with a single profile, failed to process multiple profiles");
        }
        Map.Entry<String, ProfileRunResult> only = results.entrySet().iterator().next();
        if (only.getValue().failed()) {
            throw new InferenceException(ErrorCode.RESOURCE_EXHAUSTED,
                    FAILURE_PREFIX + "failed to run scheduler profile '" + only.getKey() + "'");
        }
        return new SchedulingResult(results, only.getKey());
    }
}
