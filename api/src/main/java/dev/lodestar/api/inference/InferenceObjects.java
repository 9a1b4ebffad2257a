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
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads Inference Extension objects: {@link #parse} the InferenceObjective and InferenceModelRewrite objects
 * of a multi-document YAML file, as users would {@code kubectl apply} them, for EPPs that run without
 * Kubernetes; {@link #read} any one object as the API server returns it. Unknown fields and kinds are errors.
 */
public final class InferenceObjects {
    /** The groups whose v1alpha2 objectives and rewrites the EPP reads. */
    public static final Set<String> API_VERSIONS =
            Set.of("inference.networking.x-k8s.io/v1alpha2", "llm-d.ai/v1alpha2");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .registerModule(new JavaTimeModule())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** The apiVersions each kind is read under. */
    private static final Map<Class<?>, Set<String>> VERSIONS = Map.of(
            InferencePool.class, Set.of(InferencePool.API_VERSION),
            InferenceModel.class, Set.of(InferenceModel.API_VERSION),
            InferenceObjective.class, API_VERSIONS,
            InferenceModelRewrite.class, API_VERSIONS);

    private InferenceObjects() {
    }

    /**
     * Reads one object as the API server returns it (JSON, or YAML as {@code kubectl get -o yaml} prints it):
     * unknown fields are errors and the defaults the API server applies are applied when absent. Does not
     * validate; {@code validate()} does.
     *
     * @param type {@link InferencePool}, {@link InferenceModel}, {@link InferenceObjective} or
     *             {@link InferenceModelRewrite}
     * @throws InvalidConfigException when the text is not such an object
     */
    public static <T extends Record> T read(String jsonOrYaml, Class<T> type) {
        JsonNode tree;
        try {
            tree = YAML.readTree(jsonOrYaml);
        } catch (IOException e) {
            throw new InvalidConfigException("not valid JSON or YAML: " + e.getMessage(), e);
        }
        return read(tree, type);
    }

    /** {@link #read(String, Class)} from a parsed tree, e.g. a Kubernetes client's raw object. */
    public static <T extends Record> T read(JsonNode tree, Class<T> type) {
        Set<String> versions = VERSIONS.get(type);
        if (versions == null) {
            throw new IllegalArgumentException(type + " is not an Inference Extension object");
        }
        String apiVersion = tree.path("apiVersion").asText("");
        String kind = tree.path("kind").asText("");
        if (!versions.contains(apiVersion) || !kind.equals(type.getSimpleName())) {
            throw new InvalidConfigException("expected " + type.getSimpleName() + " of "
                    + versions.stream().sorted().toList() + ", got " + kind + " of '" + apiVersion + "'");
        }
        try {
            return YAML.treeToValue(tree, type);
        } catch (UnrecognizedPropertyException e) {
            throw new InvalidConfigException(kind + ": unknown field '" + e.getPropertyName() + "' at "
                    + e.getPathReference(), e);
        } catch (JsonProcessingException e) {
            throw new InvalidConfigException(kind + ": " + e.getOriginalMessage(), e);
        }
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
        List<Violation> violations = new ArrayList<>(object.validate());
        if (object instanceof InferenceModelRewrite rewrite) {
            // The schema lets a rule omit targets, but such a rule could never rewrite a request.
            List<InferenceModelRewrite.Rule> rules = rewrite.spec().rules();
            for (int r = 0; r < rules.size(); r++) {
                String targets = "spec.rules[" + r + "].targets";
                if (rules.get(r).targets().isEmpty()
                        && violations.stream().noneMatch(violation -> violation.field().equals(targets))) {
                    violations.add(new Violation(targets, "the EPP needs at least one target"));
                }
            }
        }
        if (!violations.isEmpty()) {
            throw new InvalidConfigException(where + " (" + kind + " " + object.metadata().name() + "): "
                    + violations.stream().map(Violation::toString).collect(Collectors.joining("; ")));
        }
        return object;
    }
}
