package dev.lodestar.api.inference;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.lodestar.api.config.InvalidConfigException;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Holds config/crd/ and the Java model together: the same fields, types, enums, defaults and CEL rules, and
 * every schema limit of the CRD enforced by {@code validate()} (each limit is broken once in a full sample).
 */
class CrdSchemaTest {
    private static final Path CRD_DIR = Path.of("..", "config", "crd");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()).registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    /** A CRD file, the record it maps to, the sample object that sets every field, the apiVersion. */
    private record Crd(String file, Class<? extends Record> type, String sample, String apiVersion) {
    }

    private static final List<Crd> CRDS = List.of(
            new Crd("inference.networking.k8s.io_inferencepools.yaml", InferencePool.class,
                    "inferencepool.yaml", "inference.networking.k8s.io/v1"),
            new Crd("inference.networking.x-k8s.io_inferenceobjectives.yaml", InferenceObjective.class,
                    "inferenceobjective.yaml", "inference.networking.x-k8s.io/v1alpha2"),
            new Crd("llm-d.ai_inferenceobjectives.yaml", InferenceObjective.class,
                    "inferenceobjective.yaml", "llm-d.ai/v1alpha2"),
            new Crd("inference.networking.x-k8s.io_inferencemodelrewrites.yaml", InferenceModelRewrite.class,
                    "inferencemodelrewrite.yaml", "inference.networking.x-k8s.io/v1alpha2"),
            new Crd("llm-d.ai_inferencemodelrewrites.yaml", InferenceModelRewrite.class,
                    "inferencemodelrewrite.yaml", "llm-d.ai/v1alpha2"),
            new Crd("inference.networking.x-k8s.io_inferencemodels.yaml", InferenceModel.class,
                    "inferencemodel.yaml", "inference.networking.x-k8s.io/v1alpha2"));

    /** String fields whose schema has an enum (the record keeps a String for compatibility). */
    private static final Map<String, List<String>> STRING_ENUMS = Map.of(
            "InferenceModelRewrite spec.rules.matches.model.type", InferenceModelRewrite.MATCH_TYPES);

    @Test
    void kustomizationListsEveryCrdAndTheTestCoversEveryOne() throws IOException {
        JsonNode kustomization = YAML.readTree(CRD_DIR.resolve("kustomization.yaml").toFile());
        Set<String> listed = new TreeSet<>();
        kustomization.path("resources").forEach(resource -> listed.add(resource.asText()));
        Set<String> present = new TreeSet<>();
        try (Stream<Path> files = Files.list(CRD_DIR)) {
            files.map(file -> file.getFileName().toString())
                    .filter(name -> name.endsWith(".yaml") && !name.equals("kustomization.yaml")).forEach(present::add);
        }
        assertThat(listed).isEqualTo(present);
        Set<String> covered = new TreeSet<>(CRDS.stream().map(Crd::file).toList());
        assertThat(covered).isEqualTo(present);
    }

    @Test
    void groupVersionKindAndNamesMatchTheModel() throws IOException {
        for (Crd crd : CRDS) {
            JsonNode spec = crd(crd).path("spec");
            String kind = crd.type().getSimpleName();
            assertThat(spec.path("group").asText() + "/" + spec.path("versions").get(0).path("name").asText())
                    .as(crd.file()).isEqualTo(crd.apiVersion());
            assertThat(spec.path("names").path("kind").asText()).isEqualTo(kind);
            assertThat(spec.path("versions")).as("one version, served and stored").hasSize(1);
            assertThat(spec.path("versions").get(0).path("subresources").has("status")).isTrue();
            assertThat(spec.path("scope").asText()).isEqualTo("Namespaced");
            assertThat(crd(crd).path("metadata").path("name").asText())
                    .isEqualTo(spec.path("names").path("plural").asText() + "." + spec.path("group").asText());
        }
        assertThat(crd(CRDS.get(0)).path("spec").path("names").path("shortNames").get(0).asText()).isEqualTo("infpool");
    }

    @Test
    void fieldsTypesAndEnumsMatchTheRecords() throws IOException {
        for (Crd crd : CRDS) {
            JsonNode schema = schema(crd);
            for (String top : List.of("spec", "status")) {
                compare(crd.type().getSimpleName(), top, schema.path("properties").path(top),
                        component(crd.type(), top).getGenericType());
            }
            assertThat(names(schema.path("properties"))).as(crd.file())
                    .containsExactlyInAnyOrderElementsOf(Arrays.stream(crd.type().getRecordComponents())
                            .map(RecordComponent::getName).toList());
        }
    }

    @Test
    void celRulesAndMessagesAreTheOnesValidateApplies() throws Exception {
        for (Crd crd : CRDS) {
            List<CelRule> inCrd = new ArrayList<>();
            collectRules("", schema(crd), inCrd);
            @SuppressWarnings("unchecked")
            List<CelRule> inJava = (List<CelRule>) crd.type().getField("RULES").get(null);
            assertThat(inCrd).as(crd.file()).containsExactlyInAnyOrderElementsOf(inJava);
        }
    }

    @TestFactory
    Stream<DynamicTest> theFullSamplesAreValidAndRoundTrip() {
        return CRDS.stream().map(crd -> DynamicTest.dynamicTest(crd.file(), () -> {
            ObjectNode sample = sample(crd);
            Record object = decode(sample, crd.type());
            assertThat(validate(object)).isEmpty();
            // Through text, so that numbers compare by value and not by node type (IntNode vs LongNode).
            JsonNode back = YAML.readTree(YAML.writeValueAsString(object));
            JsonNode expected = YAML.readTree(YAML.writeValueAsString(sample));
            assertThat(back.path("spec")).isEqualTo(expected.path("spec"));
            assertThat(back.path("status")).isEqualTo(expected.path("status"));
        }));
    }

    /** Each {@code default} in the CRD: remove the field from the sample, decode, and find the default there. */
    @TestFactory
    Stream<DynamicTest> defaultsAreAppliedWhenAbsent() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Crd crd : CRDS) {
            walk(crd, (node, at) -> {
                if (node.schema.has("default")) {
                    tests.add(DynamicTest.dynamicTest(crd.file() + " " + at.path, () -> {
                        ObjectNode sample = sample(crd);
                        at.remove(sample);
                        JsonNode decoded = YAML.valueToTree(decode(sample, crd.type()));
                        assertThat(at.find(decoded)).isEqualTo(node.schema.get("default"));
                    }));
                }
            });
        }
        return tests.stream();
    }

    /** Each limit of the CRD (required, lengths, pattern, bounds, item and property counts, enum), broken once. */
    @TestFactory
    Stream<DynamicTest> everySchemaLimitIsEnforced() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Crd crd : CRDS) {
            walk(crd, (node, at) -> {
                JsonNode s = node.schema;
                String name = crd.file() + " " + at.path + " ";
                if (node.required) {
                    tests.add(breaks(crd, name + "required", at, root -> at.remove(root), "Required value"));
                }
                if (s.has("maxLength")) {
                    String tooLong = "a".repeat(s.get("maxLength").asInt() + 1);
                    tests.add(breaks(crd, name + "maxLength", at, root -> at.set(root, text(tooLong)), "Too long"));
                }
                if (s.path("minLength").asInt() > 0) {
                    tests.add(breaks(crd, name + "minLength", at, root -> at.set(root, text("")), "should be at least"));
                }
                if (s.has("pattern")) {
                    tests.add(breaks(crd, name + "pattern", at, root -> at.set(root, text("Ω")), "should match"));
                }
                if (s.has("minimum")) {
                    long below = s.get("minimum").asLong() - 1;
                    tests.add(breaks(crd, name + "minimum", at, root -> at.set(root, number(below)),
                            "should be greater than or equal to"));
                }
                if (s.has("maximum")) {
                    long above = s.get("maximum").asLong() + 1;
                    tests.add(breaks(crd, name + "maximum", at, root -> at.set(root, number(above)),
                            "should be less than or equal to"));
                }
                if (s.path("minItems").asInt() > 0) {
                    tests.add(breaks(crd, name + "minItems", at,
                            root -> at.set(root, JsonNodeFactory.instance.arrayNode()), "should have at least"));
                }
                if (s.has("maxItems")) {
                    int count = s.get("maxItems").asInt() + 1;
                    tests.add(breaks(crd, name + "maxItems", at, root -> {
                        ArrayNode items = JsonNodeFactory.instance.arrayNode();
                        JsonNode first = at.find(root).get(0);
                        for (int i = 0; i < count; i++) {
                            items.add(first.deepCopy());
                        }
                        at.set(root, items);
                    }, "Too many"));
                }
                if (s.path("minProperties").asInt() > 0) {
                    tests.add(breaks(crd, name + "minProperties", at,
                            root -> at.set(root, JsonNodeFactory.instance.objectNode()), "should have at least"));
                }
                if (s.has("maxProperties")) {
                    int count = s.get("maxProperties").asInt() + 1;
                    tests.add(breaks(crd, name + "maxProperties", at, root -> {
                        ObjectNode map = JsonNodeFactory.instance.objectNode();
                        JsonNode value = at.find(root).elements().next();
                        for (int i = 0; i < count; i++) {
                            map.set("k" + i, value.deepCopy());
                        }
                        at.set(root, map);
                    }, "Too many"));
                }
                if (s.has("enum")) {
                    tests.add(breaks(crd, name + "enum", at, root -> at.set(root, text("NotInTheEnum")),
                            "Unsupported value"));
                }
            });
        }
        return tests.stream();
    }

    private static DynamicTest breaks(Crd crd, String name, At at, Consumer<ObjectNode> mutation, String message) {
        return DynamicTest.dynamicTest(name, () -> {
            ObjectNode sample = sample(crd);
            mutation.accept(sample);
            Record object;
            try {
                object = decode(sample, crd.type());
            } catch (InvalidConfigException e) {
                // Only enums may fail already in decoding: a Java enum cannot hold an unknown value.
                assertThat(name).endsWith("enum");
                return;
            }
            assertThat(validate(object)).as(name).anySatisfy(violation -> {
                assertThat(violation.field()).isEqualTo(at.path);
                assertThat(violation.message()).startsWith(message);
            });
        });
    }

    // --- schema walking

    /** A schema node and whether its parent lists it as required. */
    private record Node(JsonNode schema, boolean required) {
    }

    /**
     * Where a schema node sits in an object: the violation path ({@code spec.targetPorts[0].number}) and the
     * steps to reach it (property names; {@code 0} for the first array item; {@code *} for the first map entry).
     */
    private record At(String path, List<String> steps) {
        At child(String step) {
            List<String> next = new ArrayList<>(steps);
            next.add(step);
            return new At(step.equals("0") ? path + "[0]" : path.isEmpty() ? step : path + "." + step, next);
        }

        JsonNode find(JsonNode root) {
            JsonNode node = root;
            for (String step : steps) {
                node = step.equals("0") ? node.get(0) : node.get(step);
                if (node == null) {
                    fail("the sample has nothing at " + path + "; it must set every field");
                }
            }
            return node;
        }

        void set(JsonNode root, JsonNode value) {
            JsonNode parent = new At("", steps.subList(0, steps.size() - 1)).find(root);
            String last = steps.get(steps.size() - 1);
            if (parent instanceof ArrayNode array) {
                array.set(Integer.parseInt(last), value);
            } else {
                ((ObjectNode) parent).set(last, value);
            }
        }

        void remove(JsonNode root) {
            JsonNode parent = new At("", steps.subList(0, steps.size() - 1)).find(root);
            ((ObjectNode) parent).remove(steps.get(steps.size() - 1));
        }
    }

    private interface Visitor {
        void visit(Node node, At at) throws IOException;
    }

    /** Visits spec, status and everything below them, resolving map entries to the sample's first key. */
    private static void walk(Crd crd, Visitor visitor) throws IOException {
        JsonNode root = schema(crd);
        ObjectNode sample = sample(crd);
        Set<String> required = requiredOf(root);
        for (String top : List.of("spec", "status")) {
            walk(new Node(root.path("properties").path(top), required.contains(top)),
                    new At(top, List.of(top)), sample, visitor);
        }
    }

    private static void walk(Node node, At at, JsonNode sample, Visitor visitor) throws IOException {
        visitor.visit(node, at);
        JsonNode schema = node.schema;
        Set<String> required = requiredOf(schema);
        for (Map.Entry<String, JsonNode> property : schema.path("properties").properties()) {
            walk(new Node(property.getValue(), required.contains(property.getKey())), at.child(property.getKey()),
                    sample, visitor);
        }
        if (schema.has("items")) {
            walk(new Node(schema.get("items"), false), at.child("0"), sample, visitor);
        }
        if (schema.has("additionalProperties")) {
            String key = at.find(sample).fieldNames().next();
            walk(new Node(schema.get("additionalProperties"), false), at.child(key), sample, visitor);
        }
    }

    private static Set<String> requiredOf(JsonNode schema) {
        Set<String> required = new HashSet<>();
        schema.path("required").forEach(name -> required.add(name.asText()));
        return required;
    }

    private static void collectRules(String path, JsonNode schema, List<CelRule> rules) {
        schema.path("x-kubernetes-validations").forEach(rule -> rules.add(
                new CelRule(path, rule.path("rule").asText(), rule.path("message").asText())));
        schema.path("properties").properties().forEach(property -> collectRules(
                path.isEmpty() ? property.getKey() : path + "." + property.getKey(), property.getValue(), rules));
        if (schema.has("items")) {
            collectRules(path, schema.get("items"), rules);
        }
    }

    /** The schema node and the Java type describe the same JSON. */
    private static void compare(String kind, String path, JsonNode schema, Type type) {
        String where = kind + " " + path;
        Class<?> raw = type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
        String schemaType = schema.path("type").asText();
        String format = schema.path("format").asText("");
        if (raw.isRecord()) {
            assertThat(schemaType).as(where).isEqualTo("object");
            List<String> components = Arrays.stream(raw.getRecordComponents()).map(RecordComponent::getName).toList();
            assertThat(names(schema.path("properties"))).as(where + " fields")
                    .containsExactlyInAnyOrderElementsOf(components);
            for (RecordComponent component : raw.getRecordComponents()) {
                compare(kind, path + "." + component.getName(), schema.path("properties").path(component.getName()),
                        component.getGenericType());
            }
        } else if (raw == List.class) {
            assertThat(schemaType).as(where).isEqualTo("array");
            compare(kind, path, schema.path("items"), ((ParameterizedType) type).getActualTypeArguments()[0]);
        } else if (raw == Map.class) {
            assertThat(schemaType).as(where).isEqualTo("object");
            compare(kind, path, schema.path("additionalProperties"),
                    ((ParameterizedType) type).getActualTypeArguments()[1]);
        } else if (raw.isEnum()) {
            assertThat(schemaType).as(where).isEqualTo("string");
            List<String> values = Arrays.stream(raw.getFields()).filter(java.lang.reflect.Field::isEnumConstant)
                    .map(field -> field.getAnnotation(JsonProperty.class).value()).toList();
            assertThat(texts(schema.path("enum"))).as(where + " enum").isEqualTo(values);
        } else if (raw == String.class) {
            assertThat(schemaType).as(where).isEqualTo("string");
            assertThat(texts(schema.path("enum"))).as(where + " enum")
                    .isEqualTo(STRING_ENUMS.getOrDefault(where, List.of()));
        } else if (raw == Instant.class) {
            assertThat(schemaType + " " + format).as(where).isEqualTo("string date-time");
        } else if (raw == Long.class) {
            assertThat(schemaType + " " + format).as(where).isEqualTo("integer int64");
        } else if (raw == Integer.class) {
            assertThat(schemaType).as(where).isEqualTo("integer");
            // InferenceObjective.priority of inference.networking.x-k8s.io has no format (a Go int); the
            // llm-d.ai CRD says int32, which is what the EPP uses.
            assertThat(format).as(where).isIn("int32", "");
        } else {
            fail(where + ": no schema mapping for " + type);
        }
    }

    // --- helpers

    private static JsonNode crd(Crd crd) throws IOException {
        return YAML.readTree(CRD_DIR.resolve(crd.file()).toFile());
    }

    private static JsonNode schema(Crd crd) throws IOException {
        return crd(crd).path("spec").path("versions").get(0).path("schema").path("openAPIV3Schema");
    }

    private static ObjectNode sample(Crd crd) throws IOException {
        try (InputStream in = CrdSchemaTest.class.getResourceAsStream("/samples/" + crd.sample())) {
            ObjectNode sample = (ObjectNode) YAML.readTree(in);
            sample.put("apiVersion", crd.apiVersion());
            return sample;
        }
    }

    private static Record decode(JsonNode tree, Class<? extends Record> type) {
        return InferenceObjects.read(tree, type);
    }

    @SuppressWarnings("unchecked")
    private static List<Violation> validate(Record object) {
        try {
            return (List<Violation>) object.getClass().getMethod("validate").invoke(object);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static RecordComponent component(Class<?> type, String name) {
        return Arrays.stream(type.getRecordComponents()).filter(c -> c.getName().equals(name)).findFirst()
                .orElseThrow();
    }

    private static List<String> names(JsonNode properties) {
        List<String> names = new ArrayList<>();
        properties.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(value -> texts.add(value.asText()));
        return texts;
    }

    private static JsonNode text(String value) {
        return JsonNodeFactory.instance.textNode(value);
    }

    private static JsonNode number(long value) {
        return JsonNodeFactory.instance.numberNode(value);
    }
}
