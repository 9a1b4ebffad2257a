package dev.lodestar.epp.plugins.labelselectorfilter;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A Kubernetes {@code LabelSelector} ({@code metav1.LabelSelector}). {@link #validated()} checks it like
 * {@code LabelSelectorAsSelector}: keys are qualified names, values are label values, {@code In} and
 * {@code NotIn} need values and {@code Exists} and {@code DoesNotExist} take none.
 *
 * @param matchLabels      pairs that must all be present with exactly these values
 * @param matchExpressions requirements that must all hold
 */
public record LabelSelector(Map<String, String> matchLabels, List<Requirement> matchExpressions) {
    private static final int MAX_NAME_LENGTH = 63;
    private static final int MAX_PREFIX_LENGTH = 253;
    private static final Pattern NAME = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
    private static final Pattern DNS_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    public LabelSelector {
        matchLabels = matchLabels == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(matchLabels));
        matchExpressions = matchExpressions == null ? List.of()
                : Collections.unmodifiableList(new ArrayList<>(matchExpressions));
    }

    /**
     * This selector, checked (separately from construction so that strict decoding reports an unknown
     * field before a value problem it causes).
     *
     * @throws IllegalArgumentException naming the invalid key, value or operator
     */
    public LabelSelector validated() {
        matchLabels.forEach((key, value) -> {
            validateKey(key);
            validateValue(key, value);
        });
        for (Requirement requirement : matchExpressions) {
            if (requirement == null) {
                throw new IllegalArgumentException("matchExpressions: an entry is null");
            }
            requirement.validate();
        }
        return this;
    }

    /** The selector that matches every label set. */
    public static LabelSelector everything() {
        return new LabelSelector(Map.of(), List.of());
    }

    public boolean matches(Map<String, String> labels) {
        for (Map.Entry<String, String> pair : matchLabels.entrySet()) {
            if (!pair.getValue().equals(labels.get(pair.getKey()))) {
                return false;
            }
        }
        for (Requirement requirement : matchExpressions) {
            if (!requirement.matches(labels)) {
                return false;
            }
        }
        return true;
    }

    /** The operators of {@code matchExpressions}, spelled as in Kubernetes. */
    public enum Operator {
        In, NotIn, Exists, DoesNotExist
    }

    /**
     * One {@code matchExpressions} entry.
     *
     * @param key      the label key
     * @param operator how the label must relate to {@code values}
     * @param values   the values for {@code In} / {@code NotIn}
     */
    public record Requirement(String key, Operator operator, List<String> values) {
        public Requirement {
            values = values == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(values));
        }

        void validate() {
            if (key == null) {
                throw new IllegalArgumentException("matchExpressions: key is required");
            }
            validateKey(key);
            if (operator == null) {
                throw new IllegalArgumentException("matchExpressions key '" + key + "': operator is required (one of "
                        + List.of(Operator.values()) + ")");
            }
            switch (operator) {
                case In, NotIn -> {
                    if (values.isEmpty()) {
                        throw new IllegalArgumentException("matchExpressions key '" + key
                                + "': values must be non-empty for operator " + operator);
                    }
                    values.forEach(value -> validateValue(key, value));
                }
                case Exists, DoesNotExist -> {
                    if (!values.isEmpty()) {
                        throw new IllegalArgumentException("matchExpressions key '" + key
                                + "': values must be empty for operator " + operator);
                    }
                }
            }
        }

        boolean matches(Map<String, String> labels) {
            String value = labels.get(key);
            return switch (operator) {
                case In -> value != null && values.contains(value);
                case NotIn -> value == null || !values.contains(value);
                case Exists -> value != null;
                case DoesNotExist -> value == null;
            };
        }
    }

    private static void validateKey(String key) {
        String name = key;
        int slash = key.indexOf('/');
        if (slash >= 0) {
            String prefix = key.substring(0, slash);
            name = key.substring(slash + 1);
            if (prefix.isEmpty() || prefix.length() > MAX_PREFIX_LENGTH || !DNS_SUBDOMAIN.matcher(prefix).matches()) {
                throw new IllegalArgumentException("invalid label key '" + key
                        + "': the prefix must be a lower-case DNS subdomain of at most 253 characters");
            }
        }
        if (name.isEmpty() || name.length() > MAX_NAME_LENGTH || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid label key '" + key + "': the name must be 1-63 alphanumeric"
                    + " characters, '-', '_' or '.', starting and ending with an alphanumeric character");
        }
    }

    private static void validateValue(String key, String value) {
        if (value == null) {
            throw new IllegalArgumentException("label '" + key + "': value must not be null");
        }
        if (!value.isEmpty() && (value.length() > MAX_NAME_LENGTH || !NAME.matcher(value).matches())) {
            throw new IllegalArgumentException("invalid value '" + value + "' for label '" + key + "': at most 63"
                    + " alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character");
        }
    }
}
