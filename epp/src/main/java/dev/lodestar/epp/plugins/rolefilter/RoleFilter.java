package dev.lodestar.epp.plugins.rolefilter;

import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.Filter;
import dev.lodestar.epp.framework.scheduling.LlmRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * llm-d's disaggregation role filters on the pod label {@code llm-d.ai/role}:
 * <ul>
 *   <li>{@code decode-filter}: {@code decode}, {@code prefill-decode}, {@code both} (deprecated spelling of
 *       prefill-decode), {@code encode-prefill-decode}, and pods without the label;</li>
 *   <li>{@code prefill-filter}: {@code prefill}, {@code encode-prefill}, {@code prefill-decode}, {@code both},
 *       {@code encode-prefill-decode}; unlabeled pods are excluded;</li>
 *   <li>{@code encode-filter}: {@code encode}, {@code encode-prefill}, {@code encode-prefill-decode}.</li>
 * </ul>
 * Values match exactly (case-sensitive); the filters take no parameters.
 */
public final class RoleFilter implements Filter {
    public static final String ROLE_LABEL = "llm-d.ai/role";
    public static final String DECODE_TYPE = "decode-filter";
    public static final String PREFILL_TYPE = "prefill-filter";
    public static final String ENCODE_TYPE = "encode-filter";
    public static final PluginFactory DECODE_FACTORY = (name, parameters, handle) -> create(DECODE_TYPE, name, parameters);
    public static final PluginFactory PREFILL_FACTORY = (name, parameters, handle) -> create(PREFILL_TYPE, name, parameters);
    public static final PluginFactory ENCODE_FACTORY = (name, parameters, handle) -> create(ENCODE_TYPE, name, parameters);

    /** No parameters; any field is an error. */
    public record Params() {
    }

    private final TypedName typedName;
    private final Set<String> roles;
    private final boolean keepUnlabeled;

    private RoleFilter(String type, String name, Set<String> roles, boolean keepUnlabeled) {
        this.typedName = new TypedName(type, name);
        this.roles = roles;
        this.keepUnlabeled = keepUnlabeled;
    }

    public static RoleFilter decode(String name) {
        return new RoleFilter(DECODE_TYPE, name,
                Set.of("decode", "prefill-decode", "both", "encode-prefill-decode"), true);
    }

    public static RoleFilter prefill(String name) {
        return new RoleFilter(PREFILL_TYPE, name,
                Set.of("prefill", "encode-prefill", "prefill-decode", "both", "encode-prefill-decode"), false);
    }

    public static RoleFilter encode(String name) {
        return new RoleFilter(ENCODE_TYPE, name, Set.of("encode", "encode-prefill", "encode-prefill-decode"), false);
    }

    private static RoleFilter create(String type, String name, com.fasterxml.jackson.databind.JsonNode parameters) {
        PluginParameters.decode(name, parameters, Params.class);
        return switch (type) {
            case DECODE_TYPE -> decode(name);
            case PREFILL_TYPE -> prefill(name);
            default -> encode(name);
        };
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public List<Endpoint> filter(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
        List<Endpoint> kept = new ArrayList<>(endpoints.size());
        for (Endpoint endpoint : endpoints) {
            String role = endpoint.metadata().labels().get(ROLE_LABEL);
            if (role == null ? keepUnlabeled : roles.contains(role)) {
                kept.add(endpoint);
            }
        }
        return kept;
    }
}
