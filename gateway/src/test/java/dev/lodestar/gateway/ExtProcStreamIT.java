package dev.lodestar.gateway;

import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One ext_proc stream through {@link EndpointPickerClient} against {@link ScriptedEndpointPicker}. */
class ExtProcStreamIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final ProcessingRequest HEADERS = EnvoyMessages.requestHeaders(
            HeaderBlock.create().add(":method", "GET").add(":path", "/"), true, Metadata.getDefaultInstance());

    private ScriptedEndpointPicker epp;
    private EndpointPickerClient client;

    @BeforeEach
    void start() {
        epp = ScriptedEndpointPicker.start();
        client = new EndpointPickerClient(new GatewayConfig.EndpointPicker(epp.address(), false));
    }

    @AfterEach
    void stop() {
        client.close();
        epp.close();
    }

    @Test
    void repliesComeBackInOrderAndFinishHalfCloses() throws Exception {
        epp.script((request, stream) -> {
            stream.reply(ScriptedEndpointPicker.requestHeadersReply(HeaderMutation.getDefaultInstance(),
                    ScriptedEndpointPicker.destinationMetadata("a")));
            stream.reply(ScriptedEndpointPicker.requestHeadersReply(HeaderMutation.getDefaultInstance(),
                    ScriptedEndpointPicker.destinationMetadata("b")));
        });
        ExtProcStream stream = client.open();

        stream.send(HEADERS);
        ProcessingResponse first = stream.next(WAIT);
        ProcessingResponse second = stream.next(WAIT);
        stream.finish();

        assertThat(EnvoyMessages.metadataString(first.getDynamicMetadata(), "envoy.lb",
                "x-gateway-destination-endpoint")).contains("a");
        assertThat(EnvoyMessages.metadataString(second.getDynamicMetadata(), "envoy.lb",
                "x-gateway-destination-endpoint")).contains("b");
        epp.onlyStream().halfClosed().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(epp.onlyStream().requests()).containsExactly(HEADERS);
        stream.send(HEADERS); // after finish: dropped, not an error
        assertThat(epp.onlyStream().requests()).hasSize(1);
    }

    @Test
    void silenceBeyondTheTimeoutCancelsTheStream() throws Exception {
        ExtProcStream stream = client.open();
        stream.send(HEADERS);

        assertThatThrownBy(() -> stream.next(Duration.ofMillis(200)))
                .isInstanceOf(ExtProcStream.ExtProcException.class).hasMessageContaining("200 ms");
        assertThat(epp.onlyStream().error().get(WAIT.toSeconds(), TimeUnit.SECONDS).getCode())
                .isEqualTo(Status.Code.CANCELLED);
    }

    @Test
    void eppErrorAndEarlyCloseAreExtProcFailures() {
        epp.script((request, stream) -> stream.fail(Status.INTERNAL.withDescription("no endpoints")));
        ExtProcStream failing = client.open();
        failing.send(HEADERS);
        assertThatThrownBy(() -> failing.next(WAIT)).isInstanceOf(ExtProcStream.ExtProcException.class)
                .hasMessageContaining("INTERNAL").hasMessageContaining("no endpoints");

        epp.script((request, stream) -> stream.complete());
        ExtProcStream closing = client.open();
        closing.send(HEADERS);
        assertThatThrownBy(() -> closing.next(WAIT)).isInstanceOf(ExtProcStream.ExtProcException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void unreachableEppIsUnavailable() {
        EndpointPickerClient nowhere = new EndpointPickerClient(new GatewayConfig.EndpointPicker("127.0.0.1:1", false));
        try {
            ExtProcStream stream = nowhere.open();
            stream.send(HEADERS);
            assertThatThrownBy(() -> stream.next(WAIT)).isInstanceOf(ExtProcStream.ExtProcException.class)
                    .hasMessageContaining("UNAVAILABLE");
        } finally {
            nowhere.close();
        }
    }
}
