package dev.lodestar.gateway;

import com.google.protobuf.BoolValue;
import com.google.protobuf.ByteString;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption.HeaderAppendAction;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class EnvoyMessagesTest {

    private static HeaderValueOption.Builder raw(String name, String value) {
        return HeaderValueOption.newBuilder().setHeader(HeaderValue.newBuilder().setKey(name)
                .setRawValue(ByteString.copyFromUtf8(value)));
    }

    private static HeaderBlock apply(HeaderBlock headers, HeaderValueOption.Builder... sets) {
        HeaderMutation.Builder mutation = HeaderMutation.newBuilder();
        for (HeaderValueOption.Builder set : sets) {
            mutation.addSetHeaders(set);
        }
        EnvoyMessages.apply(mutation.build(), headers);
        return headers;
    }

    @Test
    void setOverwritesByDefault() {
        HeaderBlock headers = apply(HeaderBlock.create().add("x-gateway-destination-endpoint", "6.6.6.6:80")
                        .add("x-gateway-destination-endpoint", "7.7.7.7:80"),
                raw("x-gateway-destination-endpoint", "10.0.0.1:8000"), raw("x-new", "1"));

        assertThat(headers.entries()).containsExactly(Map.entry("x-gateway-destination-endpoint", "10.0.0.1:8000"),
                Map.entry("x-new", "1"));
    }

    @Test
    void explicitAppendTrueAddsAValueAndAppendFalseOverwrites() {
        HeaderBlock headers = apply(HeaderBlock.create().add("a", "1").add("b", "1"),
                raw("a", "2").setAppend(BoolValue.of(true)), raw("b", "2").setAppend(BoolValue.of(false)));

        assertThat(headers.entries()).containsExactly(Map.entry("a", "1"), Map.entry("a", "2"), Map.entry("b", "2"));
    }

    @Test
    void addIfAbsentOnlyAddsMissingHeaders() {
        HeaderBlock headers = apply(HeaderBlock.create().add("a", "1"),
                raw("a", "2").setAppendAction(HeaderAppendAction.ADD_IF_ABSENT),
                raw("b", "3").setAppendAction(HeaderAppendAction.ADD_IF_ABSENT));

        assertThat(headers.entries()).containsExactly(Map.entry("a", "1"), Map.entry("b", "3"));
    }

    @Test
    void overwriteIfExistsOnlyReplacesPresentHeaders() {
        HeaderBlock headers = apply(HeaderBlock.create().add("a", "1"),
                raw("a", "2").setAppendAction(HeaderAppendAction.OVERWRITE_IF_EXISTS),
                raw("b", "3").setAppendAction(HeaderAppendAction.OVERWRITE_IF_EXISTS));

        assertThat(headers.entries()).containsExactly(Map.entry("a", "2"));
    }

    @Test
    void overwriteIfExistsOrAddSets() {
        HeaderBlock headers = apply(HeaderBlock.create().add("a", "1"),
                raw("a", "2").setAppendAction(HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD),
                raw("b", "3").setAppendAction(HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD));

        assertThat(headers.entries()).containsExactly(Map.entry("a", "2"), Map.entry("b", "3"));
    }

    @Test
    void removalsComeBeforeSets() {
        HeaderBlock headers = HeaderBlock.create().add("a", "1").add("b", "1").add("c", "1");
        EnvoyMessages.apply(HeaderMutation.newBuilder().addRemoveHeaders("a").addRemoveHeaders("B")
                .addSetHeaders(raw("a", "new")).build(), headers);

        assertThat(headers.entries()).containsExactly(Map.entry("c", "1"), Map.entry("a", "new"));
    }

    @Test
    void rawValueWinsOverValue() {
        HeaderBlock headers = apply(HeaderBlock.create(), HeaderValueOption.newBuilder().setHeader(HeaderValue
                .newBuilder().setKey("a").setValue("from value").setRawValue(ByteString.copyFromUtf8("from raw"))));

        assertThat(headers.entries()).containsExactly(Map.entry("a", "from raw"));
    }

    @Test
    void aSetWithItsValueOnlyInValueIsIgnoredAsEnvoyDoes() {
        HeaderBlock headers = apply(HeaderBlock.create().add("a", "kept"), HeaderValueOption.newBuilder()
                .setHeader(HeaderValue.newBuilder().setKey("a").setValue("from value")));

        assertThat(headers.entries()).containsExactly(Map.entry("a", "kept"));
    }

    @Test
    void headerNamesOfMutationsAreCaseInsensitive() {
        HeaderBlock headers = apply(HeaderBlock.create().add("content-length", "10"), raw("Content-Length", "42"));

        assertThat(headers.entries()).containsExactly(Map.entry("content-length", "42"));
    }

    @Test
    void headerMapCarriesValuesInRawValueOnly() {
        HeaderBlock headers = HeaderBlock.create().add(":method", "POST").add(":path", "/v1/completions")
                .add("x-multi", "1").add("x-multi", "2").add("x-utf8", "é");

        ProcessingRequest request = EnvoyMessages.requestHeaders(headers, false, Metadata.getDefaultInstance());

        List<HeaderValue> sent = request.getRequestHeaders().getHeaders().getHeadersList();
        assertThat(sent).extracting(HeaderValue::getKey).containsExactly(":method", ":path", "x-multi", "x-multi",
                "x-utf8");
        assertThat(sent).extracting(HeaderValue::getValue).containsOnly("");
        assertThat(sent).extracting(h -> h.getRawValue().toString(StandardCharsets.UTF_8))
                .containsExactly("POST", "/v1/completions", "1", "2", "é");
        assertThat(request.getRequestHeaders().getEndOfStream()).isFalse();
        assertThat(EnvoyMessages.requestHeaders(headers, true, Metadata.getDefaultInstance()).getRequestHeaders()
                .getEndOfStream()).isTrue();
    }

    @Test
    void subsetHintIsAListUnderItsNamespace() {
        Metadata hint = EnvoyMessages.subsetHint(Optional.of(List.of("10.0.0.1:8000", "10.0.0.2:8000")));

        assertThat(hint.getFilterMetadataMap()).containsOnlyKeys("envoy.lb.subset_hint");
        Struct space = hint.getFilterMetadataMap().get("envoy.lb.subset_hint");
        assertThat(space.getFieldsMap()).containsOnlyKeys("x-gateway-destination-endpoint-subset");
        ListValue list = space.getFieldsMap().get("x-gateway-destination-endpoint-subset").getListValue();
        assertThat(list.getValuesList()).extracting(Value::getStringValue)
                .containsExactly("10.0.0.1:8000", "10.0.0.2:8000");
    }

    @Test
    void emptySubsetIsSentAsAnEmptyListAndNoSubsetAsNoMetadata() {
        Metadata empty = EnvoyMessages.subsetHint(Optional.of(List.of()));
        assertThat(empty.getFilterMetadataMap().get("envoy.lb.subset_hint").getFieldsMap()
                .get("x-gateway-destination-endpoint-subset").hasListValue()).isTrue();
        assertThat(EnvoyMessages.subsetHint(Optional.empty())).isEqualTo(Metadata.getDefaultInstance());
    }

    @Test
    void servedMetadataIsAStringUnderEnvoyLb() {
        Metadata served = EnvoyMessages.served("10.0.0.1:8000");

        assertThat(served.getFilterMetadataMap()).containsOnlyKeys("envoy.lb");
        assertThat(served.getFilterMetadataMap().get("envoy.lb").getFieldsMap()
                .get("x-gateway-destination-endpoint-served").getStringValue()).isEqualTo("10.0.0.1:8000");
        ProcessingRequest headers = EnvoyMessages.responseHeaders(HeaderBlock.create().add(":status", "200"), false,
                served);
        assertThat(headers.getMetadataContext()).isEqualTo(served);
        assertThat(headers.getResponseHeaders().getHeaders().getHeaders(0).getKey()).isEqualTo(":status");
    }

    @Test
    void bodyMessagesCarryTheSliceAndEndOfStream() {
        byte[] body = "abcdef".getBytes(StandardCharsets.UTF_8);

        ProcessingRequest chunk = EnvoyMessages.requestBody(body, 2, 3, true, Metadata.getDefaultInstance());
        assertThat(chunk.getRequestBody().getBody().toStringUtf8()).isEqualTo("cde");
        assertThat(chunk.getRequestBody().getEndOfStream()).isTrue();

        ProcessingRequest response = EnvoyMessages.responseBody(body, 4, false);
        assertThat(response.getResponseBody().getBody().toStringUtf8()).isEqualTo("abcd");
        assertThat(response.getResponseBody().getEndOfStream()).isFalse();
    }

    @Test
    void metadataStringReadsOneKeyOfANamespace() {
        Struct metadata = Struct.newBuilder().putFields("envoy.lb", Value.newBuilder().setStructValue(Struct
                .newBuilder().putFields("x-gateway-destination-endpoint", Value.newBuilder()
                        .setStringValue("10.0.0.1:8000").build())
                .putFields("n", Value.newBuilder().setNumberValue(1).build())).build())
                .putFields("flat", Value.newBuilder().setStringValue("x").build()).build();

        assertThat(EnvoyMessages.metadataString(metadata, "envoy.lb", "x-gateway-destination-endpoint"))
                .contains("10.0.0.1:8000");
        assertThat(EnvoyMessages.metadataString(metadata, "envoy.lb", "n")).isEmpty();
        assertThat(EnvoyMessages.metadataString(metadata, "envoy.lb", "absent")).isEmpty();
        assertThat(EnvoyMessages.metadataString(metadata, "flat", "x")).isEmpty();
        assertThat(EnvoyMessages.metadataString(metadata, "absent", "x")).isEmpty();
    }
}
