package dev.lodestar.epp.datalayer;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The labels of one sample, in exposition order. Immutable; lookups are linear (samples carry few labels). */
public final class Labels {
    public static final Labels EMPTY = new Labels(new String[0], new String[0]);

    private final String[] names;
    private final String[] values;

    private Labels(String[] names, String[] values) {
        this.names = names;
        this.values = values;
    }

    /** Labels from alternating names and values, e.g. {@code of("model_name", "m", "engine", "0")}. */
    public static Labels of(String... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("labels need a value for every name");
        }
        int count = namesAndValues.length / 2;
        String[] names = new String[count];
        String[] values = new String[count];
        for (int i = 0; i < count; i++) {
            names[i] = namesAndValues[2 * i];
            values[i] = namesAndValues[2 * i + 1];
        }
        return fromArrays(names, values);
    }

    /** Takes ownership of the arrays; rejects a repeated name. */
    static Labels fromArrays(String[] names, String[] values) {
        for (int i = 0; i < names.length; i++) {
            for (int j = 0; j < i; j++) {
                if (names[i].equals(names[j])) {
                    throw new IllegalArgumentException("label '" + names[i] + "' is given twice");
                }
            }
        }
        return names.length == 0 ? EMPTY : new Labels(names, values);
    }

    public int size() {
        return names.length;
    }

    public String name(int index) {
        return names[index];
    }

    public String value(int index) {
        return values[index];
    }

    public Optional<String> get(String name) {
        return Optional.ofNullable(valueOrNull(name));
    }

    /** The value of {@code name}, or "" when the sample has no such label (PromQL's view of a missing label). */
    public String valueOrEmpty(String name) {
        String value = valueOrNull(name);
        return value == null ? "" : value;
    }

    private String valueOrNull(String name) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(name)) {
                return values[i];
            }
        }
        return null;
    }

    public Map<String, String> asMap() {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) {
            map.put(names[i], values[i]);
        }
        return Collections.unmodifiableMap(map);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Labels that && Arrays.equals(names, that.names) && Arrays.equals(values, that.values);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(names) + Arrays.hashCode(values);
    }

    /** As in the exposition format: {@code {a="x",b="y"}}, or "" without labels. */
    @Override
    public String toString() {
        if (names.length == 0) {
            return "";
        }
        StringBuilder text = new StringBuilder("{");
        for (int i = 0; i < names.length; i++) {
            if (i > 0) {
                text.append(',');
            }
            text.append(names[i]).append("=\"");
            String value = values[i];
            for (int c = 0; c < value.length(); c++) {
                char ch = value.charAt(c);
                switch (ch) {
                    case '\\' -> text.append("\\\\");
                    case '"' -> text.append("\\\"");
                    case '\n' -> text.append("\\n");
                    default -> text.append(ch);
                }
            }
            text.append('"');
        }
        return text.append('}').toString();
    }
}
