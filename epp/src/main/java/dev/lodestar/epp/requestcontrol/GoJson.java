package dev.lodestar.epp.requestcontrol;

import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Serializes JSON exactly as Go's {@code json.Marshal} does for a decoded {@code map[string]any}, which
 * is how the reference EPP re-serializes request bodies: object keys sorted at every level, no
 * whitespace, {@code <}, {@code >}, {@code &}, U+2028 and U+2029 escaped as {@code \\uXXXX}, and every
 * number formatted as a float64 (shortest representation, exponent form below 1e-6 and from 1e21).
 * This keeps our bodies byte-identical to the upstream test vectors.
 */
public final class GoJson {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private GoJson() {
    }

    public static byte[] marshal(JsonNode node) {
        return marshal(node, 256);
    }

    /** As {@link #marshal(JsonNode)}, with the expected size (e.g. the parsed body's), so the buffer never grows. */
    public static byte[] marshal(JsonNode node, int expectedChars) {
        StringBuilder out = new StringBuilder(Math.max(16, expectedChars + expectedChars / 8));
        write(node, out);
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void write(JsonNode node, StringBuilder out) {
        switch (node.getNodeType()) {
            case OBJECT -> {
                List<Map.Entry<String, JsonNode>> fields = new ArrayList<>(node.size());
                for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                    fields.add(it.next());
                }
                fields.sort(Map.Entry.comparingByKey(GoJson::compareUtf8));
                out.append('{');
                for (int i = 0; i < fields.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    string(fields.get(i).getKey(), out);
                    out.append(':');
                    write(fields.get(i).getValue(), out);
                }
                out.append('}');
            }
            case ARRAY -> {
                out.append('[');
                for (int i = 0; i < node.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    write(node.get(i), out);
                }
                out.append(']');
            }
            case STRING -> string(node.textValue(), out);
            case NUMBER -> out.append(formatFloat64(node.doubleValue()));
            case BOOLEAN -> out.append(node.booleanValue());
            case NULL, MISSING -> out.append("null");
            default -> string(node.asText(), out);
        }
    }

    /** Go sorts map keys by their UTF-8 bytes; Java strings compare by UTF-16 units, which differs above U+FFFF. */
    private static int compareUtf8(String a, String b) {
        return java.util.Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    static String formatFloat64(double value) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            // Go refuses to marshal these; the body could not have contained them as JSON numbers.
            throw new IllegalArgumentException("unsupported value: " + value);
        }
        if (value == 0) {
            return "0";
        }
        double abs = Math.abs(value);
        BigDecimal shortest = new BigDecimal(Double.toString(value)).stripTrailingZeros();
        if (abs < 1e-6 || abs >= 1e21) {
            // Go: strconv.FormatFloat(f, 'e', -1, 64) with the exponent cleaned to at least two digits.
            String digits = shortest.unscaledValue().abs().toString();
            int exponent = digits.length() - 1 - shortest.scale();
            StringBuilder text = new StringBuilder();
            if (value < 0) {
                text.append('-');
            }
            text.append(digits.charAt(0));
            if (digits.length() > 1) {
                text.append('.').append(digits, 1, digits.length());
            }
            text.append('e').append(exponent < 0 ? '-' : '+');
            int magnitude = Math.abs(exponent);
            if (magnitude < 10) {
                text.append('0');
            }
            return text.append(magnitude).toString();
        }
        return shortest.toPlainString();
    }

    private static void string(String value, StringBuilder out) {
        out.append('"');
        int length = value.length();
        int run = 0; // start of the characters not yet appended, all of which need no escaping
        for (int i = 0; i < length; i++) {
            char c = value.charAt(i);
            // Most characters of a prompt are plain: skip them here and append them as one range.
            if (c >= 0x20 && c < 0x2028 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
                continue;
            }
            out.append(value, run, i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '<', '>', '&', '\u2028', '\u2029' -> unicodeEscape(c, out);
                default -> {
                    if (c < 0x20) {
                        unicodeEscape(c, out);
                    } else if (Character.isSurrogate(c) && !validSurrogatePair(value, i)) {
                        out.append("\\ufffd");
                    } else {
                        out.append(c);
                        if (Character.isHighSurrogate(c)) {
                            out.append(value.charAt(++i));
                        }
                    }
                }
            }
            run = i + 1;
        }
        out.append(value, run, length);
        out.append('"');
    }

    private static boolean validSurrogatePair(String value, int i) {
        char c = value.charAt(i);
        return Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1));
    }

    private static void unicodeEscape(char c, StringBuilder out) {
        out.append("\\u").append(HEX[(c >> 12) & 0xf]).append(HEX[(c >> 8) & 0xf])
                .append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
    }
}
