package dev.lodestar.epp.plugins.singleprofilehandler;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.Filter;
import dev.lodestar.epp.framework.scheduling.PluginTimer;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.Scheduler;
import dev.lodestar.epp.framework.scheduling.SchedulerProfile;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.plugins.Fixtures;
import dev.lodestar.epp.plugins.maxscorepicker.MaxScorePicker;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SingleProfileHandlerTest {
    private final SingleProfileHandler handler = new SingleProfileHandler("handler");
    private final Endpoint a = Fixtures.endpoint("10.0.0.1", 8000);

    private static SchedulerProfile profile(String name, Filter... filters) {
        return new SchedulerProfile(name, List.of(filters), List.of(),
                new MaxScorePicker("picker", 1, ThreadLocalRandom::current));
    }

    @Test
    void picksEveryProfileUntilAllHaveRun() {
        Map<String, SchedulerProfile> profiles = Map.of("default", profile("default"));
        CycleState state = new CycleState();

        assertThat(handler.pick(state, Fixtures.request("r"), profiles, Map.of())).isEqualTo(profiles);
        assertThat(handler.pick(state, Fixtures.request("r"), profiles,
                Map.of("default", new ProfileRunResult(List.of(a))))).isEmpty();
    }

    @Test
    void theOnlyResultBecomesThePrimary() {
        SchedulingResult result = handler.processResults(new CycleState(), Fixtures.request("r"),
                Map.of("default", new ProfileRunResult(List.of(a))));

        assertThat(result.primaryProfileName()).isEqualTo("default");
        assertThat(result.primary().targetEndpoints()).containsExactly(a);
    }

    @Test
    void aFailedProfileIsResourceExhaustedWithUpstreamsMessage() {
        assertThatThrownBy(() -> handler.processResults(new CycleState(), Fixtures.request("r"),
                Map.of("default", ProfileRunResult.FAILED)))
                .isInstanceOfSatisfying(InferenceException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
                    assertThat(e.clientMessage()).isEqualTo("inference error: ResourceExhausted - "
                            + "failed to find target endpoint: failed to run scheduler profile 'default'");
                });
    }

    @Test
    void moreThanOneResultIsAnError() {
        assertThatThrownBy(() -> handler.processResults(new CycleState(), Fixtures.request("r"),
                Map.of("a", new ProfileRunResult(List.of(a)), "b", new ProfileRunResult(List.of(a)))))
                .isInstanceOfSatisfying(InferenceException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
                    assertThat(e.getMessage()).isEqualTo("failed to find target endpoint: single profile handler is"
                            + " intended to be used with a single profile, failed to process multiple profiles");
                });
    }

    @Test
    void aSchedulerWhoseFiltersRemoveEveryEndpointFailsThroughTheHandler() {
        Filter dropAll = new Filter() {
            @Override
            public TypedName typedName() {
                return new TypedName("drop-all", "drop-all");
            }

            @Override
            public List<Endpoint> filter(CycleState state, dev.lodestar.epp.framework.scheduling.LlmRequest request,
                                         List<Endpoint> endpoints) {
                return List.of();
            }
        };
        Scheduler scheduler = new Scheduler(handler, Map.of("default", profile("default", dropAll)), PluginTimer.NONE);

        assertThatThrownBy(() -> scheduler.schedule(Fixtures.request("r"), List.of(a)))
                .isInstanceOf(InferenceException.class)
                .hasMessage("failed to find target endpoint: failed to run scheduler profile 'default'");
        assertThat(new Scheduler(handler, Map.of("default", profile("default")), PluginTimer.NONE)
                .schedule(Fixtures.request("r"), List.of(a)).primary().targetEndpoints()).containsExactly(a);
    }

    @Test
    void factoryNamesTheInstanceAndRejectsParameters() {
        assertThat(SingleProfileHandler.FACTORY.create("h", Fixtures.noParams(), Fixtures.HANDLE).typedName())
                .isEqualTo(new TypedName("single-profile-handler", "h"));
        assertThatThrownBy(() -> Fixtures.create(SingleProfileHandler.FACTORY, "h", "{\"primary\":\"x\"}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("unknown parameter 'primary'");
    }
}
