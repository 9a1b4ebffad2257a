package dev.lodestar.epp.datalayer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PrometheusTextParserTest {
    private static final PrometheusTextParser PARSER = PrometheusTextParser.create();

    static String fixture(String name) {
        try (InputStream in = PrometheusTextParserTest.class.getResourceAsStream("/prometheus/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing fixture " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void simulatorOutputParsesEverySampleLine() {
        String text = fixture("simulator-metrics.txt");
        long sampleLines = text.lines().filter(line -> !line.isBlank() && !line.startsWith("#")).count();

        MetricFamilies families = PARSER.parse(text);

        assertThat(families.sampleCount()).isEqualTo((int) sampleLines);
        MetricFamily e2e = families.family("vllm:e2e_request_latency_seconds").orElseThrow();
        assertThat(e2e.type()).isEqualTo(MetricType.HISTOGRAM);
        assertThat(e2e.help()).contains("Histogram of e2e request latency in seconds.");
        // 21 finite bounds + le="+Inf", then _count and _sum, all in the one family.
        assertThat(families.samples("vllm:e2e_request_latency_seconds_bucket")).hasSize(22);
        assertThat(e2e.samples()).hasSize(24);
        assertThat(families.samples("vllm:e2e_request_latency_seconds_bucket").getLast().labels().get("le"))
                .contains("+Inf");
        assertThat(families.samples("vllm:inter_token_latency_seconds_sum").getFirst().value()).isEqualTo(2.8463E-5);
        assertThat(families.family("vllm:generation_tokens_total").orElseThrow().type()).isEqualTo(MetricType.COUNTER);
        assertThat(families.samples("vllm:generation_tokens_total").getFirst().value()).isEqualTo(2.0);
        assertThat(families.samples("vllm:lora_requests_info")).hasSize(3);
        Sample cacheInfo = families.samples("vllm:cache_config_info").getFirst();
        assertThat(cacheInfo.labels().asMap())
                .containsExactly(Map.entry("block_size", "16"), Map.entry("enable_prefix_caching", "True"),
                        Map.entry("num_gpu_blocks", "1024"));
    }

    @Test
    void vllmPythonClientOutput() {
        MetricFamilies families = PARSER.parse(fixture("vllm-metrics.txt"));

        assertThat(families.samples("vllm:num_requests_waiting").getFirst().value()).isEqualTo(7.0);
        assertThat(families.samples("vllm:num_requests_waiting").getFirst().labels().get("model_name"))
                .contains("meta-llama/Llama-3.1-8B-Instruct");
        assertThat(families.samples("process_virtual_memory_bytes").getFirst().value()).isEqualTo(3.221225472e10);
        assertThat(families.samples("vllm:lora_requests_info").get(1).value()).isEqualTo(1.738438395912367e9);
        assertThat(families.samples("vllm:cache_config_info").getFirst().labels().size()).isEqualTo(15);
        // python's client writes _created series as separate gauge families.
        assertThat(families.family("vllm:prefix_cache_queries_created").orElseThrow().type()).isEqualTo(MetricType.GAUGE);
        assertThat(families.family("vllm:prefix_cache_queries_total").orElseThrow().samples()).hasSize(1);
        // _sum before the buckets still belongs to the histogram.
        MetricFamily ttft = families.family("vllm:time_to_first_token_seconds").orElseThrow();
        assertThat(ttft.samples()).extracting(Sample::name).first().isEqualTo("vllm:time_to_first_token_seconds_sum");
        assertThat(ttft.samples()).hasSize(7);
        assertThat(families.samples("vllm:request_success_total")).extracting(s -> s.labels().valueOrEmpty("finished_reason"))
                .containsExactly("stop", "length", "abort");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "0|0", "42|42", "-7|-7", "1.5|1.5", "5.|5", ".25|0.25", "1e3|1000", "1E-3|0.001", "-2.5e+2|-250",
            "1.738438391236178e+09|1.738438391236178e9", "3.2212254720e+010|3.221225472e10",
            "12345678901234567890|1.2345678901234567e19", "+Inf|Infinity", "Inf|Infinity", "+inf|Infinity",
            "-Inf|-Infinity", "-infinity|-Infinity", "NaN|NaN", "nan|NaN"})
    void values(String written, String expected) {
        Sample sample = PARSER.parse("m " + written + "\n").samples("m").getFirst();
        assertThat(Double.valueOf(sample.value())).isEqualTo(Double.valueOf(expected));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1d", "0x10", "1_000", "e5", "+NaN", "--1", "1e", "1.2.3", "abc", "+", "1e+"})
    void invalidValuesNameTheLine(String written) {
        assertThatThrownBy(() -> PARSER.parse("# TYPE m gauge\nm " + written + "\n"))
                .isInstanceOf(PrometheusFormatException.class)
                .hasMessage("line 2: invalid value '" + written + "': m " + written);
    }

    @Test
    void escapedLabelValues() {
        Sample sample = PARSER.parse("m{q=\"say \\\"hi\\\"\",b=\"C:\\\\dir\",n=\"two\\nlines\",u=\"modèle-日本\"} 1\n")
                .samples("m").getFirst();
        assertThat(sample.labels().get("q")).contains("say \"hi\"");
        assertThat(sample.labels().get("b")).contains("C:\\dir");
        assertThat(sample.labels().get("n")).contains("two\nlines");
        assertThat(sample.labels().get("u")).contains("modèle-日本");
        assertThat(sample.labels().toString()).isEqualTo("{q=\"say \\\"hi\\\"\",b=\"C:\\\\dir\",n=\"two\\nlines\",u=\"modèle-日本\"}");
    }

    @Test
    void blanksTrailingCommasEmptyLabelSetsAndCrLf() {
        MetricFamilies families = PARSER.parse(
                "\r\n  # a comment\r\na { x = \"1\" , y=\"2\", } 3 \r\nb{} 4\r\nc\t5\r\n\r\nd{z=\"}\"}6");
        assertThat(families.samples("a").getFirst().labels().asMap()).containsExactly(
                Map.entry("x", "1"), Map.entry("y", "2"));
        assertThat(families.samples("a").getFirst().value()).isEqualTo(3);
        assertThat(families.samples("b").getFirst().labels().size()).isZero();
        assertThat(families.samples("c").getFirst().value()).isEqualTo(5);
        assertThat(families.samples("d").getFirst().labels().get("z")).contains("}");
        assertThat(families.samples("d").getFirst().value()).isEqualTo(6);
    }

    @Test
    void timestamps() {
        MetricFamilies families = PARSER.parse("a 1 1700000000123\nb 2 -5\nc 3\n");
        assertThat(families.samples("a").getFirst().timestampMillis()).hasValue(1700000000123L);
        assertThat(families.samples("b").getFirst().timestampMillis()).hasValue(-5);
        assertThat(families.samples("c").getFirst().timestampMillis()).isEmpty();
    }

    @Test
    void helpAndTypeLines() {
        MetricFamilies families = PARSER.parse("""
                # HELP a First line\\nsecond, C:\\\\x and \\t kept
                # TYPE a counter
                a 1
                # TYPE b summary
                b{quantile="0.5"} 2
                b_sum 10
                b_count 3
                # TYPE empty gauge
                """);
        MetricFamily a = families.family("a").orElseThrow();
        assertThat(a.help()).contains("First line\nsecond, C:\\x and \\t kept");
        assertThat(a.type()).isEqualTo(MetricType.COUNTER);
        MetricFamily b = families.family("b").orElseThrow();
        assertThat(b.type()).isEqualTo(MetricType.SUMMARY);
        assertThat(b.samples()).extracting(Sample::name).containsExactly("b", "b_sum", "b_count");
        assertThat(families.family("empty").orElseThrow().samples()).isEmpty();
    }

    @Test
    void samplesWithoutTypeFormUntypedFamilies() {
        MetricFamilies families = PARSER.parse("# TYPE g gauge\ng 1\nother_total 2\n");
        MetricFamily other = families.family("other_total").orElseThrow();
        assertThat(other.type()).isEqualTo(MetricType.UNTYPED);
        assertThat(other.help()).isEmpty();
    }

    @Test
    void openMetricsCountersExemplarsAndEof() {
        MetricFamilies families = PARSER.parse("""
                # TYPE requests counter
                # HELP requests Requests.
                requests_total{code="200"} 10 # {trace_id="abc"} 1.0 1700000000.5
                requests_created{code="200"} 1700000000
                # TYPE build info
                build_info{version="1.2"} 1
                # EOF
                this is not exposition text
                """);
        MetricFamily requests = families.family("requests").orElseThrow();
        assertThat(requests.samples()).extracting(Sample::name).containsExactly("requests_total", "requests_created");
        assertThat(families.samples("requests_total").getFirst().value()).isEqualTo(10);
        assertThat(families.family("build").orElseThrow().samples()).hasSize(1);
    }

    @Test
    void emptyInput() {
        assertThat(PARSER.parse("").families()).isEmpty();
        assertThat(PARSER.parse("\n\n# only comments\n").sampleCount()).isZero();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "m|missing value",
            "m{a=\"1\"}|missing value",
            "1m 1|invalid metric name",
            "m-x 1|invalid metric name",
            "m{a=\"1} 2|unterminated label value",
            "m{a=\"1\" 2|expected ',' or '}' after a label value",
            "m{a 1|expected '=' after label a",
            "m{a=1} 2|expected '\"' to open the value of label a",
            "m{1a=\"x\"} 2|invalid label name",
            "m{a=\"\\t\"} 2|invalid escape sequence '\\t' in a label value",
            "m{a=\"x\",a=\"y\"} 2|label 'a' is given twice",
            "m{a=\"x\",|unterminated label set",
            "m 1 1.5|invalid timestamp '1.5'",
            "m 1 2 3|unexpected text after the value",
            "# TYPE m gauge extra|unexpected text after the type of m",
            "# TYPE m|missing type for m",
            "# TYPE m flux|unknown metric type 'flux'",
            "# TYPE|missing metric name after # TYPE",
            "# HELP 1m x|invalid metric name"})
    void malformedLinesNameTheLine(String line, String problem) {
        String text = "# HELP ok fine\nok 1\n" + line + "\nlater 2\n";
        assertThatThrownBy(() -> PARSER.parse(text))
                .isInstanceOfSatisfying(PrometheusFormatException.class, e -> assertThat(e.lineNumber()).isEqualTo(3))
                .hasMessage("line 3: " + problem + ": " + line);
    }

    @Test
    void secondTypeOrHelpLineIsAnError() {
        assertThatThrownBy(() -> PARSER.parse("# TYPE a gauge\na 1\n# TYPE a gauge\n"))
                .hasMessage("line 3: second TYPE line for a: # TYPE a gauge");
        assertThatThrownBy(() -> PARSER.parse("# HELP a x\n# HELP a y\n"))
                .hasMessage("line 2: second HELP line for a: # HELP a y");
    }

    @Test
    void selectingParserKeepsOnlyTheNamedSeries() {
        String text = fixture("simulator-metrics.txt");
        PrometheusTextParser selecting = PrometheusTextParser.selecting(
                List.of("vllm:num_requests_waiting", "vllm:lora_requests_info", "vllm:e2e_request_latency_seconds_count"));

        MetricFamilies selected = selecting.parse(text);
        MetricFamilies all = PARSER.parse(text);

        assertThat(selected.families()).extracting(MetricFamily::name).containsExactlyInAnyOrder(
                "vllm:num_requests_waiting", "vllm:lora_requests_info", "vllm:e2e_request_latency_seconds");
        assertThat(selected.samples("vllm:lora_requests_info")).isEqualTo(all.samples("vllm:lora_requests_info"));
        assertThat(selected.samples("vllm:e2e_request_latency_seconds_count"))
                .isEqualTo(all.samples("vllm:e2e_request_latency_seconds_count"));
        assertThat(selected.samples("vllm:e2e_request_latency_seconds_bucket")).isEmpty();
        assertThat(selected.family("vllm:e2e_request_latency_seconds").orElseThrow().type()).isEqualTo(MetricType.HISTOGRAM);
        assertThat(selecting.selectedNames()).contains(Set.of("vllm:num_requests_waiting", "vllm:lora_requests_info",
                "vllm:e2e_request_latency_seconds_count"));
    }

    @Test
    void selectingParserChecksCommentsAndKeptLinesButSkipsOtherSamples() {
        PrometheusTextParser selecting = PrometheusTextParser.selecting(List.of("wanted"));
        assertThat(selecting.parse("other{a=\"x} 2\nwanted 1\n").samples("wanted")).hasSize(1);
        assertThatThrownBy(() -> selecting.parse("other 1\nwanted{a=\"x} 2\n"))
                .hasMessage("line 2: unterminated label value: wanted{a=\"x} 2");
        assertThat(selecting.parse("9other 1\nwanted_not 2\nwanted{} 3\nwanted\t4\n").samples("wanted"))
                .extracting(Sample::value).containsExactly(3.0, 4.0);
        assertThatThrownBy(() -> selecting.parse("# TYPE other flux\nwanted 1\n"))
                .hasMessage("line 1: unknown metric type 'flux': # TYPE other flux");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7, 8, 9, 15, 16, 17, 63})
    void findsNewlinesAtEveryOffset(int at) {
        byte[] bytes = new byte[at + 20];
        java.util.Arrays.fill(bytes, (byte) 'x');
        bytes[at] = '\n';
        bytes[at + 3] = '\n';
        assertThat(PrometheusTextParser.indexOfNewline(bytes, 0, bytes.length)).isEqualTo(at);
        assertThat(PrometheusTextParser.indexOfNewline(bytes, at + 1, bytes.length)).isEqualTo(at + 3);
        assertThat(PrometheusTextParser.indexOfNewline(bytes, at + 4, bytes.length)).isEqualTo(bytes.length);
        assertThat(PrometheusTextParser.indexOfNewline(bytes, 0, at)).isEqualTo(at);
    }

    @Test
    void parsesARangeOfABuffer() {
        byte[] body = "garbage|m 5\n|garbage".getBytes(StandardCharsets.UTF_8);
        assertThat(PARSER.parse(body, 8, 4).samples("m").getFirst().value()).isEqualTo(5);
    }
}
