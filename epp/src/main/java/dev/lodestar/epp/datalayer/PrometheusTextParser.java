package dev.lodestar.epp.datalayer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A parser of the Prometheus text exposition format 0.0.4: {@code # HELP} and {@code # TYPE} lines, samples
 * with escaped label values, {@code +Inf}/{@code -Inf}/{@code NaN} and scientific values, optional
 * millisecond timestamps. OpenMetrics payloads parse too as far as the extractor needs: {@code # EOF} ends
 * the input and exemplars after a value are skipped. Prometheus 3's quoted UTF-8 metric and label names
 * are not supported (model servers do not emit them unless asked to).
 *
 * <p>A parser made with {@link #selecting} reads only the series it was asked for: a model server's
 * {@code /metrics} is mostly histogram buckets nobody here reads, and scraping every endpoint every 50 ms
 * must not spend its time on them. It checks comments and the lines it keeps as strictly as the full
 * parser, and skips every other sample line unread. Thread-safe and stateless.
 */
public final class PrometheusTextParser {
    private static final PrometheusTextParser ALL = new PrometheusTextParser(Optional.empty());
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long NEWLINES = 0x0A0A0A0A0A0A0A0AL;
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGH_BITS = 0x8080808080808080L;

    /** Selected series names as bytes and as the strings handed out for them; empty = every series. */
    private final Optional<Selection> selection;

    private PrometheusTextParser(Optional<Selection> selection) {
        this.selection = selection;
    }

    /** A parser that keeps every sample. */
    public static PrometheusTextParser create() {
        return ALL;
    }

    /**
     * A parser that keeps only samples whose series name (e.g. {@code vllm:num_requests_waiting} or
     * {@code foo_bucket}) is one of {@code sampleNames}; the result holds only the families of those.
     */
    public static PrometheusTextParser selecting(Collection<String> sampleNames) {
        Set<String> names = new LinkedHashSet<>(sampleNames);
        String[] strings = names.toArray(String[]::new);
        byte[][] bytes = new byte[strings.length][];
        for (int i = 0; i < strings.length; i++) {
            bytes[i] = strings[i].getBytes(StandardCharsets.UTF_8);
        }
        return new PrometheusTextParser(Optional.of(new Selection(strings, bytes)));
    }

    /** The series names this parser keeps; empty when it keeps all. */
    public Optional<Set<String>> selectedNames() {
        return selection.map(s -> Set.of(s.names));
    }

    public MetricFamilies parse(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return parse(bytes, 0, bytes.length);
    }

    public MetricFamilies parse(byte[] body) {
        return parse(body, 0, body.length);
    }

    /**
     * @throws PrometheusFormatException naming the first malformed line
     */
    public MetricFamilies parse(byte[] body, int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > body.length) {
            throw new IndexOutOfBoundsException("range " + offset + "+" + length + " outside " + body.length);
        }
        return new Run(body, offset, offset + length, selection.orElse(null)).parse();
    }

    /** The index of the first '\n' in {@code b[from, limit)}, or {@code limit}; tests eight bytes a step. */
    static int indexOfNewline(byte[] b, int from, int limit) {
        int i = from;
        for (; i + Long.BYTES <= limit; i += Long.BYTES) {
            long word = (long) LONGS.get(b, i) ^ NEWLINES;
            // The lowest high bit set marks the first zero byte, i.e. the first '\n'.
            long zeros = (word - ONES) & ~word & HIGH_BITS;
            if (zeros != 0) {
                return i + (Long.numberOfTrailingZeros(zeros) >>> 3);
            }
        }
        for (; i < limit; i++) {
            if (b[i] == '\n') {
                return i;
            }
        }
        return limit;
    }

    private record Selection(String[] names, byte[][] bytes) {
        /**
         * The index of the selected name that {@code b[from, to)} starts with, followed by a blank or '{',
         * or -1. Compares whole names rather than scanning the line's name byte by byte first: most lines
         * are not selected, and a length check plus one vectorized comparison rejects them fastest.
         */
        int indexAt(byte[] b, int from, int to) {
            for (int i = 0; i < bytes.length; i++) {
                byte[] candidate = bytes[i];
                int end = from + candidate.length;
                if (end < to) {
                    byte next = b[end];
                    if ((next == '{' || next == ' ' || next == '\t')
                            && Arrays.equals(b, from, end, candidate, 0, candidate.length)) {
                        return i;
                    }
                }
            }
            return -1;
        }
    }

    private static final class FamilyBuilder {
        final String name;
        MetricType type = MetricType.UNTYPED;
        boolean typeDeclared;
        String help;
        final List<Sample> samples = new ArrayList<>();

        FamilyBuilder(String name) {
            this.name = name;
        }

        boolean owns(String sampleName) {
            if (sampleName.equals(name)) {
                return true;
            }
            int base = name.length();
            if (sampleName.length() <= base || !sampleName.startsWith(name)) {
                return false;
            }
            return type.acceptsSuffix(sampleName.substring(base));
        }
    }

    /** The state of one parse. Lines are {@code [lineStart, lineEnd)} without the line break. */
    private static final class Run {
        private final byte[] b;
        private final int limit;
        private final Selection selection;
        private final Map<String, FamilyBuilder> families = new LinkedHashMap<>();
        private final Map<String, List<Sample>> bySampleName = new HashMap<>();
        private FamilyBuilder current;
        private int lineNumber;
        private int lineStart;
        private int lineEnd;
        private int pos;
        private String[] labelNames = new String[8];
        private String[] labelValues = new String[8];
        private byte[] unescaped = new byte[64];

        Run(byte[] b, int start, int limit, Selection selection) {
            this.b = b;
            this.pos = start;
            this.limit = limit;
            this.selection = selection;
        }

        MetricFamilies parse() {
            int next = pos;
            while (next < limit) {
                lineNumber++;
                int newline = indexOfNewline(b, next, limit);
                lineStart = next;
                lineEnd = newline > next && b[newline - 1] == '\r' ? newline - 1 : newline;
                pos = next;
                if (!line()) {
                    break;
                }
                next = newline + 1;
            }
            return result();
        }

        private MetricFamilies result() {
            Map<String, MetricFamily> byName = new LinkedHashMap<>();
            for (FamilyBuilder family : families.values()) {
                if (selection != null && family.samples.isEmpty()) {
                    continue;
                }
                byName.put(family.name, new MetricFamily(family.name, family.type, Optional.ofNullable(family.help),
                        family.samples));
            }
            Map<String, List<Sample>> samples = new HashMap<>();
            bySampleName.forEach((name, list) -> samples.put(name, List.copyOf(list)));
            return new MetricFamilies(byName, samples);
        }

        /** Parses the current line; false when it ends the input ({@code # EOF}). */
        private boolean line() {
            skipBlanks();
            if (pos == lineEnd) {
                return true;
            }
            if (b[pos] == '#') {
                return comment();
            }
            sample();
            return true;
        }

        private boolean comment() {
            pos++;
            skipBlanks();
            int wordStart = pos;
            while (pos < lineEnd && !isBlank(b[pos])) {
                pos++;
            }
            int wordEnd = pos;
            skipBlanks();
            boolean restEmpty = pos == lineEnd;
            if (is(wordStart, wordEnd, "EOF")) {
                return !restEmpty;
            }
            boolean type = is(wordStart, wordEnd, "TYPE");
            if (!type && !is(wordStart, wordEnd, "HELP")) {
                return true;
            }
            if (restEmpty) {
                throw error("missing metric name after # " + (type ? "TYPE" : "HELP"));
            }
            int nameStart = pos;
            int nameEnd = scanMetricName(nameStart);
            if (nameEnd == nameStart || (nameEnd < lineEnd && !isBlank(b[nameEnd]))) {
                throw error("invalid metric name");
            }
            String name = ascii(nameStart, nameEnd);
            pos = nameEnd;
            skipBlanks();
            FamilyBuilder family = families.computeIfAbsent(name, FamilyBuilder::new);
            if (type) {
                int typeStart = pos;
                while (pos < lineEnd && !isBlank(b[pos])) {
                    pos++;
                }
                String word = ascii(typeStart, pos);
                skipBlanks();
                if (word.isEmpty()) {
                    throw error("missing type for " + name);
                }
                if (pos != lineEnd) {
                    throw error("unexpected text after the type of " + name);
                }
                MetricType parsed = MetricType.fromWord(word)
                        .orElseThrow(() -> error("unknown metric type '" + word + "'"));
                if (family.typeDeclared) {
                    throw error("second TYPE line for " + name);
                }
                family.type = parsed;
                family.typeDeclared = true;
            } else {
                if (family.help != null) {
                    throw error("second HELP line for " + name);
                }
                family.help = helpText(pos, lineEnd);
            }
            current = family;
            return true;
        }

        private void sample() {
            String name;
            if (selection == null) {
                name = null;
            } else {
                int selected = selection.indexAt(b, pos, lineEnd);
                if (selected < 0) {
                    return;
                }
                name = selection.names[selected];
            }
            int nameStart = pos;
            int nameEnd = scanMetricName(nameStart);
            if (nameEnd == nameStart) {
                throw error("invalid metric name");
            }
            if (name == null) {
                name = ascii(nameStart, nameEnd);
            }
            pos = nameEnd;
            skipBlanks();
            Labels labels = Labels.EMPTY;
            if (pos < lineEnd && b[pos] == '{') {
                labels = labels();
                skipBlanks();
            } else if (pos == nameEnd && pos < lineEnd) {
                throw error("invalid metric name");
            }
            if (pos == lineEnd) {
                throw error("missing value");
            }
            int valueStart = pos;
            while (pos < lineEnd && !isBlank(b[pos])) {
                pos++;
            }
            double value = number(valueStart, pos);
            skipBlanks();
            OptionalLong timestamp = OptionalLong.empty();
            if (pos < lineEnd && b[pos] != '#') {
                int timestampStart = pos;
                while (pos < lineEnd && !isBlank(b[pos])) {
                    pos++;
                }
                timestamp = OptionalLong.of(timestamp(timestampStart, pos));
                skipBlanks();
            }
            // What may follow is an OpenMetrics exemplar ("# {trace_id=...} 1.0"), which nothing here reads.
            if (pos < lineEnd && b[pos] != '#') {
                throw error("unexpected text after the value");
            }
            add(new Sample(name, labels, value, timestamp));
        }

        private void add(Sample sample) {
            String name = sample.name();
            FamilyBuilder family = current != null && current.owns(name) ? current : families.get(name);
            if (family == null) {
                for (String suffix : MetricType.ALL_SUFFIXES) {
                    if (name.length() > suffix.length() && name.endsWith(suffix)) {
                        FamilyBuilder base = families.get(name.substring(0, name.length() - suffix.length()));
                        if (base != null && base.type.acceptsSuffix(suffix)) {
                            family = base;
                            break;
                        }
                    }
                }
            }
            if (family == null) {
                family = new FamilyBuilder(name);
                families.put(name, family);
            }
            family.samples.add(sample);
            bySampleName.computeIfAbsent(name, n -> new ArrayList<>(2)).add(sample);
        }

        /** Reads {@code {name="value",...}} from {@code pos} at '{'. */
        private Labels labels() {
            pos++;
            int count = 0;
            while (true) {
                skipBlanks();
                if (pos == lineEnd) {
                    throw error("unterminated label set");
                }
                if (b[pos] == '}') {
                    pos++;
                    break;
                }
                int nameStart = pos;
                int nameEnd = scanLabelName(nameStart);
                if (nameEnd == nameStart) {
                    throw error("invalid label name");
                }
                pos = nameEnd;
                skipBlanks();
                if (pos == lineEnd || b[pos] != '=') {
                    throw error("expected '=' after label " + ascii(nameStart, nameEnd));
                }
                pos++;
                skipBlanks();
                if (pos == lineEnd || b[pos] != '"') {
                    throw error("expected '\"' to open the value of label " + ascii(nameStart, nameEnd));
                }
                pos++;
                String value = labelValue();
                if (count == labelNames.length) {
                    labelNames = Arrays.copyOf(labelNames, count * 2);
                    labelValues = Arrays.copyOf(labelValues, count * 2);
                }
                labelNames[count] = ascii(nameStart, nameEnd);
                labelValues[count] = value;
                count++;
                skipBlanks();
                if (pos < lineEnd && b[pos] == ',') {
                    pos++;
                } else if (pos < lineEnd && b[pos] == '}') {
                    pos++;
                    break;
                } else {
                    throw error("expected ',' or '}' after a label value");
                }
            }
            try {
                return Labels.fromArrays(Arrays.copyOf(labelNames, count), Arrays.copyOf(labelValues, count));
            } catch (IllegalArgumentException e) {
                throw error(e.getMessage());
            }
        }

        /** Reads a label value from after its opening quote through the closing quote. */
        private String labelValue() {
            int start = pos;
            boolean escaped = false;
            while (true) {
                if (pos == lineEnd) {
                    throw error("unterminated label value");
                }
                byte c = b[pos];
                if (c == '"') {
                    break;
                }
                if (c == '\\') {
                    if (pos + 1 == lineEnd) {
                        throw error("unterminated label value");
                    }
                    byte next = b[pos + 1];
                    if (next != '\\' && next != '"' && next != 'n') {
                        throw error("invalid escape sequence '\\" + (char) next + "' in a label value");
                    }
                    escaped = true;
                    pos += 2;
                } else {
                    pos++;
                }
            }
            int end = pos;
            pos++;
            if (!escaped) {
                return new String(b, start, end - start, StandardCharsets.UTF_8);
            }
            if (unescaped.length < end - start) {
                unescaped = new byte[Math.max(end - start, unescaped.length * 2)];
            }
            int n = 0;
            for (int i = start; i < end; i++) {
                byte c = b[i];
                if (c == '\\') {
                    byte next = b[++i];
                    unescaped[n++] = next == 'n' ? (byte) '\n' : next;
                } else {
                    unescaped[n++] = c;
                }
            }
            return new String(unescaped, 0, n, StandardCharsets.UTF_8);
        }

        /** HELP text: {@code \\} and {@code \n} are escapes; any other backslash is kept as written. */
        private String helpText(int start, int end) {
            StringBuilder text = null;
            for (int i = start; i < end; i++) {
                if (b[i] == '\\' && i + 1 < end && (b[i + 1] == '\\' || b[i + 1] == 'n')) {
                    if (text == null) {
                        text = new StringBuilder(new String(b, start, i - start, StandardCharsets.UTF_8));
                    }
                    text.append(b[i + 1] == 'n' ? '\n' : '\\');
                    i++;
                } else if (text != null) {
                    int runEnd = i + 1;
                    while (runEnd < end && b[runEnd] != '\\') {
                        runEnd++;
                    }
                    text.append(new String(b, i, runEnd - i, StandardCharsets.UTF_8));
                    i = runEnd - 1;
                }
            }
            return text == null ? new String(b, start, end - start, StandardCharsets.UTF_8) : text.toString();
        }

        /**
         * Parses a value token: a decimal with optional sign, fraction and exponent, or Inf/Infinity/NaN in
         * any case (Go's ParseFloat, which upstream uses, accepts those). Hex floats and Java's "1d" are not.
         */
        private double number(int start, int end) {
            int i = start;
            boolean negative = false;
            if (b[i] == '+' || b[i] == '-') {
                negative = b[i] == '-';
                i++;
            }
            if (i < end && !isDigit(b[i]) && b[i] != '.') {
                if (isIgnoreCase(i, end, "inf") || isIgnoreCase(i, end, "infinity")) {
                    return negative ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
                }
                if (i == start && isIgnoreCase(i, end, "nan")) {
                    return Double.NaN;
                }
                throw error("invalid value '" + ascii(start, end) + "'");
            }
            int digits = 0;
            long integer = 0;
            while (i < end && isDigit(b[i])) {
                integer = integer * 10 + (b[i] - '0');
                digits++;
                i++;
            }
            boolean simple = true;
            if (i < end && b[i] == '.') {
                simple = false;
                i++;
                while (i < end && isDigit(b[i])) {
                    digits++;
                    i++;
                }
            }
            if (digits == 0) {
                throw error("invalid value '" + ascii(start, end) + "'");
            }
            if (i < end && (b[i] == 'e' || b[i] == 'E')) {
                simple = false;
                i++;
                if (i < end && (b[i] == '+' || b[i] == '-')) {
                    i++;
                }
                int exponentDigits = 0;
                while (i < end && isDigit(b[i])) {
                    exponentDigits++;
                    i++;
                }
                if (exponentDigits == 0) {
                    throw error("invalid value '" + ascii(start, end) + "'");
                }
            }
            if (i != end) {
                throw error("invalid value '" + ascii(start, end) + "'");
            }
            if (simple && digits <= 18) {
                return negative ? -(double) integer : (double) integer;
            }
            return Double.parseDouble(ascii(start, end));
        }

        private long timestamp(int start, int end) {
            int i = start;
            boolean negative = b[i] == '-';
            if (negative) {
                i++;
            }
            if (i == end || end - i > 18) {
                throw error("invalid timestamp '" + ascii(start, end) + "'");
            }
            long value = 0;
            for (; i < end; i++) {
                if (!isDigit(b[i])) {
                    throw error("invalid timestamp '" + ascii(start, end) + "'");
                }
                value = value * 10 + (b[i] - '0');
            }
            return negative ? -value : value;
        }

        /** The end of a metric name starting at {@code start} ({@code [a-zA-Z_:][a-zA-Z0-9_:]*}). */
        private int scanMetricName(int start) {
            int i = start;
            if (i < lineEnd && (isLetter(b[i]) || b[i] == '_' || b[i] == ':')) {
                i++;
                while (i < lineEnd && (isLetter(b[i]) || isDigit(b[i]) || b[i] == '_' || b[i] == ':')) {
                    i++;
                }
            }
            return i;
        }

        /** The end of a label name starting at {@code start} ({@code [a-zA-Z_][a-zA-Z0-9_]*}). */
        private int scanLabelName(int start) {
            int i = start;
            if (i < lineEnd && (isLetter(b[i]) || b[i] == '_')) {
                i++;
                while (i < lineEnd && (isLetter(b[i]) || isDigit(b[i]) || b[i] == '_')) {
                    i++;
                }
            }
            return i;
        }

        private void skipBlanks() {
            while (pos < lineEnd && isBlank(b[pos])) {
                pos++;
            }
        }

        private boolean is(int start, int end, String word) {
            if (end - start != word.length()) {
                return false;
            }
            for (int i = 0; i < word.length(); i++) {
                if (b[start + i] != word.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        private boolean isIgnoreCase(int start, int end, String word) {
            if (end - start != word.length()) {
                return false;
            }
            for (int i = 0; i < word.length(); i++) {
                if (Character.toLowerCase((char) b[start + i]) != word.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        private String ascii(int start, int end) {
            return new String(b, start, end - start, StandardCharsets.ISO_8859_1);
        }

        private PrometheusFormatException error(String problem) {
            return new PrometheusFormatException(lineNumber, problem,
                    new String(b, lineStart, lineEnd - lineStart, StandardCharsets.UTF_8));
        }

        private static boolean isBlank(byte c) {
            return c == ' ' || c == '\t';
        }

        private static boolean isDigit(byte c) {
            return c >= '0' && c <= '9';
        }

        private static boolean isLetter(byte c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        }
    }
}
