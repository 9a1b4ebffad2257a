package dev.lodestar.epp.datalayer;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Which series a metric is read from: a PromQL instant selector such as {@code vllm:num_requests_waiting}
 * or {@code nv_trt_llm_request_metrics{request_type="waiting"}}. Quotes around label values are optional
 * (as upstream, which adds them), so {@code {request_type=waiting}} works too. Matchers on labels starting
 * with {@code __} are ignored, except {@code __name__="x"}, which names the metric.
 *
 * <p>Upstream keeps only {@code =} matchers and silently drops the others; here {@code !=}, {@code =~} and
 * {@code !~} select as PromQL does.
 */
public record MetricSpec(String name, List<LabelMatcher> matchers) {
    public MetricSpec {
        Objects.requireNonNull(name, "name");
        matchers = List.copyOf(matchers);
    }

    /**
     * Parses a selector; a blank string means the metric is disabled and gives empty.
     *
     * @throws IllegalArgumentException naming the selector and what is wrong with it
     */
    public static Optional<MetricSpec> parse(String spec) {
        if (spec == null || spec.isBlank()) {
            return Optional.empty();
        }
        return Optional.of(new Reader(spec).read());
    }

    /** Whether a series with these labels is selected (its name is looked up separately). */
    public boolean matches(Labels labels) {
        for (LabelMatcher matcher : matchers) {
            if (!matcher.matches(labels)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        if (matchers.isEmpty()) {
            return name;
        }
        StringBuilder text = new StringBuilder(name).append('{');
        for (int i = 0; i < matchers.size(); i++) {
            text.append(i == 0 ? "" : ",").append(matchers.get(i));
        }
        return text.append('}').toString();
    }

    private static final class Reader {
        private final String spec;
        private int pos;

        Reader(String spec) {
            this.spec = spec;
        }

        MetricSpec read() {
            skipSpaces();
            int nameStart = pos;
            if (pos < spec.length() && isNameStart(spec.charAt(pos))) {
                pos++;
                while (pos < spec.length() && (isNameStart(spec.charAt(pos)) || isDigit(spec.charAt(pos)))) {
                    pos++;
                }
            }
            String name = spec.substring(nameStart, pos);
            List<LabelMatcher> matchers = new ArrayList<>();
            skipSpaces();
            if (pos < spec.length() && spec.charAt(pos) == '{') {
                pos++;
                name = matchers(name, matchers);
            }
            skipSpaces();
            if (pos != spec.length()) {
                throw error("unexpected '" + spec.charAt(pos) + "'");
            }
            if (name.isEmpty()) {
                throw error("empty metric name");
            }
            return new MetricSpec(name, matchers);
        }

        /** Reads matchers up to the closing brace; returns the metric name, which {@code __name__} may set. */
        private String matchers(String name, List<LabelMatcher> matchers) {
            while (true) {
                skipSpaces();
                if (pos == spec.length()) {
                    throw error("missing '}'");
                }
                if (spec.charAt(pos) == '}') {
                    pos++;
                    return name;
                }
                int labelStart = pos;
                if (isLabelStart(spec.charAt(pos))) {
                    pos++;
                    while (pos < spec.length() && (isLabelStart(spec.charAt(pos)) || isDigit(spec.charAt(pos)))) {
                        pos++;
                    }
                }
                String label = spec.substring(labelStart, pos);
                if (label.isEmpty()) {
                    throw error("expected a label name");
                }
                skipSpaces();
                String operator = operator();
                skipSpaces();
                String value = value();
                if (label.equals("__name__") && operator.equals("=")) {
                    if (!name.isEmpty() && !name.equals(value)) {
                        throw error("two metric names");
                    }
                    name = value;
                } else if (!label.startsWith("__")) {
                    try {
                        matchers.add(LabelMatcher.of(label, operator, value));
                    } catch (IllegalArgumentException e) {
                        throw error(e.getMessage());
                    }
                }
                skipSpaces();
                if (pos < spec.length() && spec.charAt(pos) == ',') {
                    pos++;
                } else if (pos == spec.length() || spec.charAt(pos) != '}') {
                    throw error("expected ',' or '}'");
                }
            }
        }

        private String operator() {
            if (spec.startsWith("=~", pos) || spec.startsWith("!=", pos) || spec.startsWith("!~", pos)) {
                pos += 2;
                return spec.substring(pos - 2, pos);
            }
            if (spec.startsWith("=", pos)) {
                pos++;
                return "=";
            }
            throw error("expected '=', '!=', '=~' or '!~'");
        }

        private String value() {
            if (pos == spec.length()) {
                throw error("missing label value");
            }
            char quote = spec.charAt(pos);
            if (quote == '"' || quote == '\'') {
                return quoted(quote);
            }
            if (quote == '`') {
                int end = spec.indexOf('`', pos + 1);
                if (end < 0) {
                    throw error("unterminated label value");
                }
                String value = spec.substring(pos + 1, end);
                pos = end + 1;
                return value;
            }
            int start = pos;
            while (pos < spec.length()) {
                char c = spec.charAt(pos);
                if (c == ',' || c == '}' || c == '"' || Character.isWhitespace(c)) {
                    break;
                }
                pos++;
            }
            if (pos == start) {
                throw error("missing label value");
            }
            return spec.substring(start, pos);
        }

        private String quoted(char quote) {
            StringBuilder value = new StringBuilder();
            pos++;
            while (true) {
                if (pos == spec.length()) {
                    throw error("unterminated label value");
                }
                char c = spec.charAt(pos++);
                if (c == quote) {
                    return value.toString();
                }
                if (c != '\\') {
                    value.append(c);
                    continue;
                }
                if (pos == spec.length()) {
                    throw error("unterminated label value");
                }
                char escaped = spec.charAt(pos++);
                switch (escaped) {
                    case 'n' -> value.append('\n');
                    case 't' -> value.append('\t');
                    case 'r' -> value.append('\r');
                    case '\\', '"', '\'' -> value.append(escaped);
                    // Kept as written so regular expressions like "a\.b" survive.
                    default -> value.append('\\').append(escaped);
                }
            }
        }

        private void skipSpaces() {
            while (pos < spec.length() && Character.isWhitespace(spec.charAt(pos))) {
                pos++;
            }
        }

        private IllegalArgumentException error(String problem) {
            return new IllegalArgumentException("invalid metric spec '" + spec + "': " + problem + " at position " + pos);
        }

        private static boolean isNameStart(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        }

        private static boolean isLabelStart(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }
    }
}
