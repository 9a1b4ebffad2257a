package dev.lodestar.api.inference;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Collects violations of OpenAPI schema limits in the API server's words. Absent optional values pass every
 * check but {@link #required}; that is how the API server treats them.
 */
final class Violations {
    static final Pattern GROUP = Pattern.compile("^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
    static final Pattern KIND = Pattern.compile("^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$");
    static final Pattern NAMESPACE = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
    static final Pattern LABEL_VALUE = Pattern.compile("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$");
    static final Pattern CONTROLLER_NAME = Pattern.compile(
            "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$");
    static final Pattern CONDITION_TYPE = Pattern.compile("^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
            + "[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$");
    static final Pattern CONDITION_REASON = Pattern.compile("^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$");

    private final List<Violation> violations = new ArrayList<>();

    void add(String field, String message) {
        violations.add(new Violation(field, message));
    }

    void rule(String field, CelRule rule) {
        add(field, rule.message());
    }

    /** @return whether the value is present */
    boolean required(String field, Object value) {
        if (value == null) {
            add(field, "Required value");
            return false;
        }
        return true;
    }

    /** Lengths count characters (code points), as the API server's OpenAPI validation does. */
    void string(String field, String value, int minLength, int maxLength, Pattern pattern) {
        if (value == null) {
            return;
        }
        int length = value.codePointCount(0, value.length());
        if (length < minLength) {
            add(field, "should be at least " + minLength + " chars long");
        }
        if (length > maxLength) {
            add(field, "Too long: may not be more than " + maxLength + " bytes");
        }
        if (pattern != null && !pattern.matcher(value).find()) {
            add(field, "should match '" + pattern.pattern() + "'");
        }
    }

    void number(String field, Number value, long minimum, long maximum) {
        if (value == null) {
            return;
        }
        if (value.longValue() < minimum) {
            add(field, "should be greater than or equal to " + minimum);
        }
        if (value.longValue() > maximum) {
            add(field, "should be less than or equal to " + maximum);
        }
    }

    void items(String field, List<?> list, int minItems, int maxItems) {
        if (list == null) {
            return;
        }
        if (list.size() < minItems) {
            add(field, "should have at least " + minItems + " items");
        }
        if (list.size() > maxItems) {
            add(field, "Too many: " + list.size() + ": must have at most " + maxItems + " items");
        }
    }

    void properties(String field, Map<?, ?> map, int minProperties, int maxProperties) {
        if (map == null) {
            return;
        }
        if (map.size() < minProperties) {
            add(field, "should have at least " + minProperties + " properties");
        }
        if (map.size() > maxProperties) {
            add(field, "Too many: " + map.size() + ": must have at most " + maxProperties + " items");
        }
    }

    /** {@code x-kubernetes-list-type: map}: the key must be unique across items. */
    <T> void uniqueKeys(String field, List<T> list, Function<T, ?> key, String keyName) {
        if (list == null) {
            return;
        }
        Set<Object> seen = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            Object value = key.apply(list.get(i));
            if (value != null && !seen.add(value)) {
                add(field + "[" + i + "]", "Duplicate value: map[string]interface {}{\"" + keyName + "\":\"" + value + "\"}");
            }
        }
    }

    /** A PoolObjectReference / ObjectReference's common limits. */
    void group(String field, String value) {
        string(field, value, 0, 253, GROUP);
    }

    void kind(String field, String value) {
        string(field, value, 1, 63, KIND);
    }

    void objectName(String field, String value) {
        if (required(field, value)) {
            string(field, value, 1, 253, null);
        }
    }

    void conditions(String field, List<Condition> conditions, int maxItems) {
        if (conditions == null) {
            return;
        }
        items(field, conditions, 0, maxItems);
        uniqueKeys(field, conditions, Condition::type, "type");
        for (int i = 0; i < conditions.size(); i++) {
            conditions.get(i).validate(field + "[" + i + "]", this);
        }
    }

    List<Violation> toList() {
        return List.copyOf(violations);
    }
}
