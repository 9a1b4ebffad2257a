package dev.lodestar.epp.datalayer;

import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One PromQL label matcher of a {@link MetricSpec}. As in PromQL, a missing label reads as "", and regular
 * expressions must match the whole value.
 */
public sealed interface LabelMatcher {
    String name();

    /** Whether a series with these labels passes this matcher. */
    boolean matches(Labels labels);

    static LabelMatcher of(String name, String operator, String value) {
        return switch (operator) {
            case "=" -> new Equal(name, value);
            case "!=" -> new NotEqual(name, value);
            case "=~" -> new Matches(name, compile(name, value));
            case "!~" -> new NotMatches(name, compile(name, value));
            default -> throw new IllegalArgumentException("unknown label matcher operator '" + operator + "'");
        };
    }

    private static Pattern compile(String name, String regex) {
        try {
            return Pattern.compile(regex, Pattern.DOTALL);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("invalid regular expression for label " + name + ": " + e.getDescription(),
                    e);
        }
    }

    /** {@code name="value"}. */
    record Equal(String name, String value) implements LabelMatcher {
        public Equal {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public boolean matches(Labels labels) {
            return value.equals(labels.valueOrEmpty(name));
        }

        @Override
        public String toString() {
            return name + "=" + quote(value);
        }
    }

    /** {@code name!="value"}. */
    record NotEqual(String name, String value) implements LabelMatcher {
        public NotEqual {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public boolean matches(Labels labels) {
            return !value.equals(labels.valueOrEmpty(name));
        }

        @Override
        public String toString() {
            return name + "!=" + quote(value);
        }
    }

    /** {@code name=~"regex"}. */
    record Matches(String name, Pattern pattern) implements LabelMatcher {
        public Matches {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(pattern, "pattern");
        }

        @Override
        public boolean matches(Labels labels) {
            return pattern.matcher(labels.valueOrEmpty(name)).matches();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Matches that && name.equals(that.name) && pattern.pattern().equals(that.pattern.pattern());
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, pattern.pattern());
        }

        @Override
        public String toString() {
            return name + "=~" + quote(pattern.pattern());
        }
    }

    /** {@code name!~"regex"}. */
    record NotMatches(String name, Pattern pattern) implements LabelMatcher {
        public NotMatches {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(pattern, "pattern");
        }

        @Override
        public boolean matches(Labels labels) {
            return !pattern.matcher(labels.valueOrEmpty(name)).matches();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof NotMatches that && name.equals(that.name)
                    && pattern.pattern().equals(that.pattern.pattern());
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, pattern.pattern());
        }

        @Override
        public String toString() {
            return name + "!~" + quote(pattern.pattern());
        }
    }

    private static String quote(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
