package dev.lodestar.epp.plugins.disagg;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.PreRequestPlugin;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;

import java.util.Map;
import java.util.Objects;

/**
 * {@code prefill-header-handler} and {@code disagg-headers-handler} (llm-d, deprecated since v0.9: the
 * {@code disagg-profile-handler} sets the headers itself): a PreRequest plugin that writes
 * {@code x-prefiller-host-port} from the {@code prefillProfile}'s target and {@code x-encoder-hosts-ports}
 * from the {@code encodeProfile}'s targets; what to pair with the deprecated {@code pd-profile-handler}.
 */
public final class PrefillHeaderHandler implements PreRequestPlugin {
    public static final String TYPE = "prefill-header-handler";
    public static final String DISAGG_HEADERS_TYPE = "disagg-headers-handler";
    public static final PluginFactory FACTORY = (name, parameters, handle) -> create(TYPE, name, parameters);
    public static final PluginFactory DISAGG_HEADERS_FACTORY =
            (name, parameters, handle) -> create(DISAGG_HEADERS_TYPE, name, parameters);

    private final TypedName typedName;
    private final String prefillProfile;
    private final String encodeProfile;

    public PrefillHeaderHandler(String type, String name, String prefillProfile, String encodeProfile) {
        this.typedName = new TypedName(type, name);
        this.prefillProfile = Objects.requireNonNull(prefillProfile, "prefillProfile");
        this.encodeProfile = Objects.requireNonNull(encodeProfile, "encodeProfile");
    }

    private static PrefillHeaderHandler create(String type, String name, JsonNode parameters) {
        Params params = PluginParameters.decode(name, parameters, Params.class);
        System.getLogger(PrefillHeaderHandler.class.getName()).log(System.Logger.Level.WARNING,
                "plugin ''{0}'': type {1} is deprecated (removal planned in llm-d v0.11); {2} sets the headers itself",
                name, type, DisaggProfileHandler.TYPE);
        return new PrefillHeaderHandler(type, name, params.prefillProfile(), params.encodeProfile());
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public void preRequest(LlmRequest request, SchedulingResult result, Map<String, String> headersToSet) {
        DisaggHeaders.write(result, prefillProfile, encodeProfile, headersToSet);
    }

    /**
     * @param prefillProfile the prefill profile's name ({@code prefill})
     * @param encodeProfile  the encode profile's name ({@code encode})
     */
    public record Params(String prefillProfile, String encodeProfile) {
        public Params {
            prefillProfile = prefillProfile == null || prefillProfile.isEmpty()
                    ? DisaggProfileHandler.DEFAULT_PREFILL_PROFILE : prefillProfile;
            encodeProfile = encodeProfile == null || encodeProfile.isEmpty()
                    ? DisaggProfileHandler.DEFAULT_ENCODE_PROFILE : encodeProfile;
        }
    }
}
