package dev.lodestar.api.inference;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * InferenceModelRewrite v1alpha2: rewrites the model a request names into one of weighted targets.
 * A rule without matches is generic (matches every model); an exact match beats a generic rule, the
 * oldest object wins among equals, and the first matching rule of an object wins.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record InferenceModelRewrite(String apiVersion, String kind, ObjectMeta metadata, Spec spec, Status status)
        implements InferenceObject {
    public static final String KIND = "InferenceModelRewrite";
    /** The values {@code matches[].model.type} may take. */
    public static final List<String> MATCH_TYPES = List.of("Exact");
    /** The CRD has no CEL rules. */
    public static final List<CelRule> RULES = List.of();

    public InferenceModelRewrite(String apiVersion, String kind, ObjectMeta metadata, Spec spec) {
        this(apiVersion, kind, metadata, spec, null);
    }

    @Override
    public PoolRef poolRef() {
        return spec == null ? null : spec.poolRef();
    }

    @Override
    public List<Violation> validate() {
        Violations violations = new Violations();
        if (spec != null) {
            if (violations.required("spec.poolRef", spec.poolRef())) {
                spec.poolRef().validate("spec.poolRef", violations);
            }
            if (violations.required("spec.rules", spec.rules)) {
                for (int r = 0; r < spec.rules.size(); r++) {
                    spec.rules.get(r).validate("spec.rules[" + r + "]", violations);
                }
            }
        }
        if (status != null) {
            violations.conditions("status.conditions", status.conditions(), 8);
        }
        return violations.toList();
    }

    /** @param rules required; absent reads as empty */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Spec(PoolRef poolRef, @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Rule> rules) {
        public Spec {
            poolRef = poolRef == null ? null : poolRef.withDefaults(PoolRef.DEFAULT_GROUP);
            rules = rules == null ? null : List.copyOf(rules);
        }

        @Override
        public List<Rule> rules() {
            return rules == null ? List.of() : rules;
        }
    }

    /**
     * Matches (OR; none = generic) and the targets to draw from.
     *
     * @param targets optional in the schema, but when present at least one; absent reads as empty
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Rule(@JsonInclude(JsonInclude.Include.NON_EMPTY) List<Match> matches,
                       @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Target> targets) {
        public Rule {
            matches = matches == null ? List.of() : List.copyOf(matches);
            targets = targets == null ? null : List.copyOf(targets);
        }

        @Override
        public List<Target> targets() {
            return targets == null ? List.of() : targets;
        }

        public boolean generic() {
            return matches.isEmpty();
        }

        void validate(String field, Violations violations) {
            for (int m = 0; m < matches.size(); m++) {
                String at = field + ".matches[" + m + "].model";
                ModelMatch model = matches.get(m).model();
                if (violations.required(at, model)) {
                    if (!MATCH_TYPES.contains(model.type())) {
                        violations.add(at + ".type", "Unsupported value: \"" + model.type()
                                + "\": supported values: \"Exact\"");
                    }
                    if (violations.required(at + ".value", model.value())) {
                        violations.string(at + ".value", model.value(), 1, Integer.MAX_VALUE, null);
                    }
                }
            }
            violations.items(field + ".targets", targets, 1, Integer.MAX_VALUE);
            for (int t = 0; t < targets().size(); t++) {
                Target target = targets.get(t);
                violations.number(field + ".targets[" + t + "].weight", target.weight(), 1, 1_000_000);
                violations.required(field + ".targets[" + t + "].modelRewrite", target.modelRewrite());
            }
        }
    }

    public record Match(ModelMatch model) {
    }

    /** {@code type} is {@code Exact}, the default and only value; {@code value} at least one character. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ModelMatch(String type, String value) {
        public ModelMatch {
            type = type == null ? "Exact" : type;
        }
    }

    /** A rewrite target; {@code weight} 1-1,000,000, optional (then targets are drawn uniformly). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Target(Integer weight, String modelRewrite) {
    }

    /** @param conditions at most 8, unique by type; defaults to one {@code Accepted/Unknown/Pending} condition */
    public record Status(List<Condition> conditions) {
        public Status {
            conditions = conditions == null ? List.of(Condition.pending("Accepted")) : List.copyOf(conditions);
        }
    }
}
