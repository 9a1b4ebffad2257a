package dev.lodestar.api.inference;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * InferenceModelRewrite v1alpha2: rewrites the model a request names into one of weighted targets.
 * A rule without matches is generic (matches every model); an exact match beats a generic rule, the
 * oldest object wins among equals, and the first matching rule of an object wins.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties({"status"})
public record InferenceModelRewrite(String apiVersion, String kind, ObjectMeta metadata, Spec spec)
        implements InferenceObject {
    public static final String KIND = "InferenceModelRewrite";

    @Override
    public PoolRef poolRef() {
        return spec == null ? null : spec.poolRef();
    }

    public record Spec(PoolRef poolRef, List<Rule> rules) {
        public Spec {
            rules = rules == null ? List.of() : List.copyOf(rules);
        }
    }

    /** Matches (OR; none = generic) and the targets to draw from. */
    public record Rule(List<Match> matches, List<Target> targets) {
        public Rule {
            matches = matches == null ? List.of() : List.copyOf(matches);
            targets = targets == null ? List.of() : List.copyOf(targets);
        }

        public boolean generic() {
            return matches.isEmpty();
        }
    }

    public record Match(ModelMatch model) {
    }

    /** {@code type} is {@code Exact} (the default and only value). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ModelMatch(String type, String value) {
    }

    /** A rewrite target; {@code weight} 1-1,000,000, optional (then targets are drawn uniformly). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Target(Integer weight, String modelRewrite) {
    }
}
