package dev.lodestar.api.inference;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.lodestar.api.config.InvalidConfigException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads InferenceObjective and InferenceModelRewrite objects from multi-document YAML, as users would
 * {@code kubectl apply} them, for EPPs that run without Kubernetes. Unknown fields and kinds are errors.
 */
public final class InferenceObjects {
    /** The groups whose v1alpha2 objectives and rewrites the EPP reads. */
    public static final Set<String> API_VERSIONS =
            Set.of("inference.networking.x-k8s.io/v1alpha2", "llm-d.ai/v1alpha2");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .registerModule(new JavaTimeModule())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private InferenceObjects() {
    }

    /**
     * @throws InvalidConfigException naming the document and field at fault
     */
    public static List<InferenceObject> parse(String yaml) {
        List<InferenceObject> objects = new ArrayList<>();
        try (JsonParser parser = YAML.getFactory().createParser(yaml);
             MappingIterator<JsonNode> documents = YAML.readValues(parser, JsonNode.class)) {
            int index = 0;
            while (documents.hasNext()) {
                JsonNode document = documents.next();
                index++;
                if (document == null || document.isNull() || document.isMissingNode() || document.isEmpty()) {
                    continue;
                }
                objects.add(toObject(document, index));
            }
        } catch (InvalidConfigException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new InvalidConfigException("not valid YAML: " + e.getMessage(), e);
        }
        return List.copyOf(objects);
    }

    private static InferenceObject toObject(JsonNode document, int index) {
        String where = "document " + index;
        String apiVersion = document.path("apiVersion").asText("");
        String kind = document.path("kind").asText("");
        if (!API_VERSIONS.contains(apiVersion)) {
            throw new InvalidConfigException(where + ": apiVersion '" + apiVersion + "' is not one of "
                    + API_VERSIONS.stream().sorted().toList());
        }
        Class<? extends InferenceObject> type = switch (kind) {
            case InferenceObjective.KIND -> InferenceObjective.class;
            case InferenceModelRewrite.KIND -> InferenceModelRewrite.class;
            default -> throw new InvalidConfigException(where + ": kind '" + kind + "' is not supported (use "
                    + InferenceObjective.KIND + " or " + InferenceModelRewrite.KIND + ")");
        };
        InferenceObject object;
        try {
            object = YAML.treeToValue(document, type);
        } catch (UnrecognizedPropertyException e) {
            throw new InvalidConfigException(where + " (" + kind + "): unknown field '" + e.getPropertyName() + "'", e);
        } catch (JsonMappingException e) {
            throw new InvalidConfigException(where + " (" + kind + "): " + e.getOriginalMessage(), e);
        } catch (JsonProcessingException e) {
            throw new InvalidConfigException(where + " (" + kind + "): " + e.getOriginalMessage(), e);
        }
        if (object.metadata() == null || object.metadata().name() == null || object.metadata().name().isBlank()) {
            throw new InvalidConfigException(where + " (" + kind + "): metadata.name is required");
        }
        if (object.poolRef() == null || object.poolRef().name() == null || object.poolRef().name().isBlank()) {
            throw new InvalidConfigException(where + " (" + kind + " " + object.metadata().name()
                    + "): spec.poolRef.name is required");
        }
        if (object instanceof InferenceModelRewrite rewrite) {
            validate(rewrite, where);
        }
        return object;
    }

    private static void validate(InferenceModelRewrite rewrite, String where) {
        String prefix = where + " (InferenceModelRewrite " + rewrite.metadata().name() + "): ";
        if (rewrite.spec().rules().isEmpty()) {
            throw new InvalidConfigException(prefix + "spec.rules is required");
        }
        for (int r = 0; r < rewrite.spec().rules().size(); r++) {
            InferenceModelRewrite.Rule rule = rewrite.spec().rules().get(r);
            if (rule.targets().isEmpty()) {
                throw new InvalidConfigException(prefix + "rules[" + r + "].targets needs at least one target");
            }
            for (InferenceModelRewrite.Match match : rule.matches()) {
                if (match.model() == null || match.model().value() == null || match.model().value().isEmpty()) {
                    throw new InvalidConfigException(prefix + "rules[" + r + "].matches[].model.value is required");
                }
                if (match.model().type() != null && !match.model().type().equals("Exact")) {
                    throw new InvalidConfigException(prefix + "rules[" + r + "] match type '" + match.model().type()
                            + "' is not supported (Exact)");
                }
            }
            for (InferenceModelRewrite.Target target : rule.targets()) {
                if (target.modelRewrite() == null || target.modelRewrite().isEmpty()) {
                    throw new InvalidConfigException(prefix + "rules[" + r + "].targets[].modelRewrite is required");
                }
                if (target.weight() != null && (target.weight() < 1 || target.weight() > 1_000_000)) {
                    throw new InvalidConfigException(prefix + "rules[" + r + "] target weight " + target.weight()
                            + " is outside 1-1000000");
                }
            }
        }
    }
}
