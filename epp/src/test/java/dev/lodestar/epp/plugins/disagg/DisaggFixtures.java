package dev.lodestar.epp.plugins.disagg;

import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.plugin.PluginHandle;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.Filter;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.SchedulerProfile;
import dev.lodestar.epp.plugins.Fixtures;
import dev.lodestar.epp.plugins.maxscorepicker.MaxScorePicker;
import dev.lodestar.epp.plugins.rolefilter.RoleFilter;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;

/** Pods with llm-d roles, role-filtered profiles, a handle over named plugins, recorders for decisions. */
final class DisaggFixtures {
    private DisaggFixtures() {
    }

    static Endpoint pod(String ip, String role) {
        return Fixtures.labelled(ip, role.isEmpty() ? Map.of() : Map.of(RoleFilter.ROLE_LABEL, role));
    }

    /** A profile of a role filter, a filter that records the profile's runs in {@code runs}, and a picker. */
    static SchedulerProfile profile(String name, Filter roleFilter, List<String> runs) {
        Filter recording = new Filter() {
            @Override
            public TypedName typedName() {
                return new TypedName("recording-filter", name);
            }

            @Override
            public List<Endpoint> filter(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
                runs.add(name);
                return endpoints;
            }
        };
        return new SchedulerProfile(name, List.of(recording, roleFilter), List.of(),
                new MaxScorePicker("picker", 1, () -> new SplittableRandom(1)));
    }

    static Map<String, SchedulerProfile> pdProfiles(List<String> runs) {
        Map<String, SchedulerProfile> profiles = new LinkedHashMap<>();
        profiles.put("decode", profile("decode", RoleFilter.decode("decode-filter"), runs));
        profiles.put("prefill", profile("prefill", RoleFilter.prefill("prefill-filter"), runs));
        return profiles;
    }

    /** A decider with a fixed answer that remembers the decode endpoints it was shown. */
    static final class FixedDecider implements Decider {
        final boolean answer;
        final List<Optional<Endpoint>> seen = new CopyOnWriteArrayList<>();
        private final String name;

        FixedDecider(String name, boolean answer) {
            this.name = name;
            this.answer = answer;
        }

        @Override
        public TypedName typedName() {
            return new TypedName("fixed-decider", name);
        }

        @Override
        public boolean disaggregate(LlmRequest request, Optional<Endpoint> decodeEndpoint) {
            seen.add(decodeEndpoint);
            return answer;
        }
    }

    /** Decisions as "metric handler-name handler-type model decision". */
    static final class Decisions implements DecisionRecorder {
        final List<String> recorded = new CopyOnWriteArrayList<>();

        @Override
        public void disaggDecision(TypedName handler, String modelName, DecisionType decision) {
            recorded.add("disagg " + handler.name() + " " + handler.type() + " " + modelName + " " + decision.label());
        }

        @Override
        public void pdDecision(TypedName handler, String modelName, DecisionType decision) {
            recorded.add("pd " + handler.name() + " " + handler.type() + " " + modelName + " " + decision.label());
        }
    }

    /** A handle over the given plugins, by name. */
    static PluginHandle handle(Plugin... plugins) {
        Map<String, Plugin> byName = new LinkedHashMap<>();
        for (Plugin plugin : plugins) {
            byName.put(plugin.typedName().name(), plugin);
        }
        return new PluginHandle() {
            @Override
            public <T extends Plugin> Optional<T> plugin(String name, Class<T> type) {
                Plugin plugin = byName.get(name);
                return type.isInstance(plugin) ? Optional.of(type.cast(plugin)) : Optional.empty();
            }

            @Override
            public Collection<Plugin> plugins() {
                return List.copyOf(byName.values());
            }

            @Override
            public List<EndpointMetadata> endpoints() {
                return new ArrayList<>();
            }
        };
    }
}
