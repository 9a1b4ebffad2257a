package dev.lodestar.epp.requestcontrol;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class GoJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String marshal(String json) throws Exception {
        return new String(GoJson.marshal(JSON.readTree(json)), StandardCharsets.UTF_8);
    }

    @Test
    void theHermeticVectorBodyComesOutByteForByte() throws Exception {
        assertThat(marshal("{\"prompt\":\"test1\",\"model\":\"my-model-12345\",\"temperature\":0,\"max_tokens\":100}"))
                .isEqualTo("{\"max_tokens\":100,\"model\":\"my-model-12345\",\"prompt\":\"test1\",\"temperature\":0}");
    }

    @Test
    void keysAreSortedAtEveryLevelAndWhitespaceDropped() throws Exception {
        assertThat(marshal("{ \"b\" : [ {\"z\":1, \"a\":2} ], \"a\" : { \"y\" : true, \"x\" : null } }"))
                .isEqualTo("{\"a\":{\"x\":null,\"y\":true},\"b\":[{\"a\":2,\"z\":1}]}");
    }

    @Test
    void htmlCharactersAndLineSeparatorsAreEscapedAsGoDoes() throws Exception {
        assertThat(marshal("{\"p\":\"<b>&\\u2028\\u2029\\n\\t\\u0001\\\"\\\\\"}"))
                .isEqualTo("{\"p\":\"\\u003cb\\u003e\\u0026\\u2028\\u2029\\n\\t\\u0001\\\"\\\\\"}");
        assertThat(marshal("{\"p\":\"héllo 😀\"}")).isEqualTo("{\"p\":\"héllo 😀\"}");
    }

    @Test
    void plainRunsAroundEscapesKeepTheirOrderAndLoneSurrogatesBecomeReplacementCharacters() {
        var text = JSON.getNodeFactory().objectNode().put("p", "ab\"cd<ef\u2028gh\ud83d\ude00ij\ud800kl\udc00" + "é".repeat(3) + "\n");

        assertThat(new String(GoJson.marshal(text), StandardCharsets.UTF_8))
                .isEqualTo("{\"p\":\"ab\\\"cd\\u003cef\\u2028gh😀ij\\ufffdkl\\ufffdééé\\n\"}");
    }

    @ParameterizedTest
    @CsvSource({"100,100", "1.0,1", "0.5,0.5", "0.7,0.7", "-3,-3", "1e21,1e+21", "1.5e-7,1.5e-07",
            "0.000001,0.000001", "123456789012345678,123456789012345680", "1e20,100000000000000000000",
            "2.5E+3,2500", "0.1,0.1"})
    void numbersAreFormattedAsGoFloat64(String input, String expected) throws Exception {
        assertThat(marshal("{\"n\":" + input + "}")).isEqualTo("{\"n\":" + expected + "}");
    }

    @Test
    void keysSortByUtf8BytesNotUtf16Units() throws Exception {
        // U+FF21 (3 UTF-8 bytes EF BC A1) sorts before U+1F600 (F0 ...) in UTF-8, after it in UTF-16.
        assertThat(marshal("{\"😀\":1,\"Ａ\":2}")).isEqualTo("{\"Ａ\":2,\"😀\":1}");
    }
}
