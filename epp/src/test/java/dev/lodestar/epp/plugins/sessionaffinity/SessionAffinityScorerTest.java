package dev.lodestar.epp.plugins.sessionaffinity;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.requestcontrol.Response;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static dev.lodestar.epp.plugins.PluginTestFixtures.chat;
import static dev.lodestar.epp.plugins.PluginTestFixtures.endpoint;
import static dev.lodestar.epp.plugins.PluginTestFixtures.handle;
import static dev.lodestar.epp.plugins.PluginTestFixtures.key;
import static dev.lodestar.epp.plugins.PluginTestFixtures.params;
import static dev.lodestar.epp.plugins.PluginTestFixtures.result;
import static dev.lodestar.epp.plugins.PluginTestFixtures.withHeaders;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SessionAffinityScorerTest {
    private final List<SessionAffinityScorer> opened = new ArrayList<>();
    private final AtomicLong now = new AtomicLong(1_000);

    @AfterEach
    void close() {
        opened.forEach(SessionAffinityScorer::close);
    }

    private SessionAffinityScorer scorer(String json) {
        SessionAffinityScorer scorer = (SessionAffinityScorer) SessionAffinityScorer.FACTORY
                .create("session-affinity-scorer", params(json), handle());
        opened.add(scorer);
        return scorer;
    }

    private SessionAffinityScorer sessionIdScorer(String json) {
        return SessionAffinityScorer.withClock("s",
                PluginParameters.decode("s", params(json), SessionAffinityScorer.Params.class), now::get);
    }

    private static LlmRequest request(String id, String header, String value) {
        return withHeaders(chat(id, "m", "hello"), Map.of(header, value));
    }

    private static double[] score(SessionAffinityScorer scorer, LlmRequest request, List<Endpoint> endpoints) {
        return scorer.score(new CycleState(), request, endpoints);
    }

    @Test
    void isAnAffinityScorerRegisteredUnderItsUpstreamType() {
        assertThat(PluginRegistry.builtIn().factory("session-affinity-scorer")).isPresent();
        assertThat(scorer("{}").category()).isEqualTo(ScorerCategory.AFFINITY);
    }

    @Test
    void tokenIsBase64OfNamespaceSlashName() {
        assertThat(SessionAffinityScorer.encode(key("pod-1-rank-0")))
                .isEqualTo(Base64.getEncoder().encodeToString("default/pod-1-rank-0".getBytes()));
    }

    @Test
    void encodedTokenPrefersTheEndpointItNames() {
        SessionAffinityScorer scorer = scorer("{}");
        List<Endpoint> endpoints = List.of(endpoint("a"), endpoint("b"), endpoint("c"));
        LlmRequest request = request("r1", "x-session-token", SessionAffinityScorer.encode(key("b")));

        assertThat(score(scorer, request, endpoints)).containsExactly(0.0, 1.0, 0.0);
        assertThat(score(scorer, chat("r2", "m", "hi"), endpoints)).containsExactly(0.0, 0.0, 0.0);
        assertThat(score(scorer, request("r3", "x-session-token", "%%not-base64%%"), endpoints))
                .containsExactly(0.0, 0.0, 0.0);
    }

    @Test
    void responseCarriesTheTokenOfTheServingEndpoint() {
        SessionAffinityScorer scorer = scorer("{\"encodedEndpointHeaderConfig\": {\"header\": \" X-My-Token \"}}");
        Endpoint served = endpoint("b");
        Map<String, String> headers = new HashMap<>();
        LlmRequest request = chat("r1", "m", "hi");
        scorer.preRequest(request, result(served), new HashMap<>());
        scorer.responseHeader(request, new Response("r1", Map.of(), false, null), served.metadata(), headers);

        assertThat(headers).containsExactly(Map.entry("x-my-token", SessionAffinityScorer.encode(key("b"))));
        LlmRequest next = request("r2", "x-my-token", headers.get("x-my-token"));
        assertThat(score(scorer, next, List.of(endpoint("a"), endpoint("b")))).containsExactly(0.0, 1.0);
    }

    @Test
    void profileNamePinsThatProfilesTarget() {
        SessionAffinityScorer scorer = scorer(
                "{\"profileName\": \"prefill\", \"encodedEndpointHeaderConfig\": {\"header\": \"x-session-token-prefill\"}}");
        Endpoint decode = endpoint("decode");
        Endpoint prefill = endpoint("prefill-pod");
        Map<String, Endpoint> picks = new LinkedHashMap<>();
        picks.put("decode", decode);
        picks.put("prefill", prefill);
        LlmRequest request = chat("r1", "m", "hi");
        scorer.preRequest(request, result(picks), new HashMap<>());

        Map<String, String> headers = new HashMap<>();
        scorer.responseHeader(request, new Response("r1", Map.of(), false, null), decode.metadata(), headers);
        assertThat(headers).containsEntry("x-session-token-prefill", SessionAffinityScorer.encode(key("prefill-pod")));

        // A decode-only request (no prefill profile) writes nothing.
        LlmRequest decodeOnly = chat("r2", "m", "hi");
        scorer.preRequest(decodeOnly, result(decode), new HashMap<>());
        Map<String, String> none = new HashMap<>();
        scorer.responseHeader(decodeOnly, new Response("r2", Map.of(), false, null), decode.metadata(), none);
        assertThat(none).isEmpty();
    }

    @Test
    void sessionIdBindsOnFirstPickAndPrefersThatEndpointAfterwards() {
        SessionAffinityScorer scorer = sessionIdScorer("{\"strategy\": \"session_id\"}");
        List<Endpoint> endpoints = List.of(endpoint("a"), endpoint("b"));
        LlmRequest first = request("r1", "x-session-id", "s-1");

        assertThat(score(scorer, first, endpoints)).containsExactly(0.0, 0.0);
        scorer.preRequest(first, result(endpoints.get(1)), new HashMap<>());

        assertThat(score(scorer, request("r2", "x-session-id", " s-1 "), endpoints)).containsExactly(0.0, 1.0);
        assertThat(score(scorer, request("r3", "x-session-id", "other"), endpoints)).containsExactly(0.0, 0.0);
        Map<String, String> headers = new HashMap<>();
        scorer.responseHeader(first, new Response("r1", Map.of(), false, null), endpoints.get(1).metadata(), headers);
        assertThat(headers).isEmpty();
    }

    @Test
    void sessionMovesOnlyWhenItsEndpointWasNotACandidate() {
        SessionAffinityScorer scorer = sessionIdScorer("{\"strategy\": \"session_id\"}");
        Endpoint a = endpoint("a");
        Endpoint b = endpoint("b");
        Endpoint c = endpoint("c");
        LlmRequest bind = request("r1", "x-session-id", "s");
        score(scorer, bind, List.of(a, b));
        scorer.preRequest(bind, result(a), new HashMap<>());

        // a was a candidate, the picker still chose b: the session stays on a.
        LlmRequest outweighed = request("r2", "x-session-id", "s");
        assertThat(score(scorer, outweighed, List.of(a, b))).containsExactly(1.0, 0.0);
        scorer.preRequest(outweighed, result(b), new HashMap<>());
        assertThat(score(scorer, request("r3", "x-session-id", "s"), List.of(a, b))).containsExactly(1.0, 0.0);

        // a is gone from the candidates: no preference, and the session moves to the pick.
        LlmRequest gone = request("r4", "x-session-id", "s");
        assertThat(score(scorer, gone, List.of(b, c))).containsExactly(0.0, 0.0);
        scorer.preRequest(gone, result(c), new HashMap<>());
        assertThat(score(scorer, request("r5", "x-session-id", "s"), List.of(a, b, c))).containsExactly(0.0, 0.0, 1.0);
    }

    @Test
    void unusedSessionsExpireAfterTheTtl() {
        SessionAffinityScorer scorer = sessionIdScorer(
                "{\"strategy\": \"session_id\", \"sessionIdConfig\": {\"evictionTtlSeconds\": 60,"
                        + " \"sources\": [{\"header\": \"X-Conversation\"}]}}");
        Endpoint a = endpoint("a");
        scorer.preRequest(request("r1", "x-conversation", "old"), result(a), new HashMap<>());
        now.addAndGet(TimeUnit.SECONDS.toNanos(50));
        scorer.preRequest(request("r2", "x-conversation", "fresh"), result(a), new HashMap<>());
        now.addAndGet(TimeUnit.SECONDS.toNanos(20));

        scorer.sweep(now.get());

        assertThat(scorer.sessionCount()).isEqualTo(1);
        assertThat(score(scorer, request("r3", "x-conversation", "old"), List.of(a))).containsExactly(0.0);
        assertThat(score(scorer, request("r4", "x-conversation", "fresh"), List.of(a))).containsExactly(1.0);
    }

    @Test
    void parametersHaveUpstreamDefaults() {
        SessionAffinityScorer.Params defaults = SessionAffinityScorer.Params.DEFAULTS;
        assertThat(defaults.strategy()).isEqualTo("encoded_endpoint_header");
        assertThat(defaults.encodedEndpointHeaderConfig().header()).isEqualTo("x-session-token");
        assertThat(defaults.sessionIdConfig().sources()).extracting(SessionAffinityScorer.SessionIdSource::header)
                .containsExactly("x-session-id");
        assertThat(defaults.sessionIdConfig().evictionTtlSeconds()).isEqualTo(300.0);
        assertThat(defaults.sessionIdConfig().evictionSweepSeconds()).isEqualTo(10.0);
    }

    @Test
    void invalidParametersAreRejected() {
        assertThatThrownBy(() -> scorer("{\"strategy\": \"cookie\"}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("strategy must be");
        assertThatThrownBy(() -> scorer("{\"strategy\": \"session_id\", \"sessionIdConfig\": {\"sources\": "
                + "[{\"header\": \"a\", \"attribute\": \"b\"}]}}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("exactly one of header or attribute");
        assertThatThrownBy(() -> scorer("{\"strategy\": \"session_id\", \"sessionIdConfig\": {\"sources\": "
                + "[{\"attribute\": \"agent-identity\"}]}}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("attribute sources are not supported");
        assertThatThrownBy(() -> scorer("{\"strategy\": \"session_id\", \"sessionIdConfig\": {\"evictionTtlSeconds\": -1}}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("evictionTtlSeconds");
        assertThatThrownBy(() -> scorer("{\"encodedEndpointHeaderConfig\": {\"name\": \"x\"}}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'name'");
    }
}
