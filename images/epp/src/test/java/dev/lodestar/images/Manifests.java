package dev.lodestar.images;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The YAML of config/manifests as kustomize builds it, for tests: a base directory's resources in the order its
 * kustomization.yaml lists them, and overlays applied (resources plus JSON 6902 patches by kind and name, the
 * only kustomize features the overlays use; anything else is an error, so the overlays stay that simple).
 */
final class Manifests {
    static final YAMLMapper YAML = new YAMLMapper();

    private Manifests() {
    }

    /** The repository root (surefire passes it; else the working directory's ../..). */
    static Path repo() {
        String configured = System.getProperty("lodestar.repo");
        return (configured == null ? Path.of("../..") : Path.of(configured)).toAbsolutePath().normalize();
    }

    static Path manifests() {
        return repo().resolve("config/manifests");
    }

    static List<JsonNode> documents(Path file) {
        List<JsonNode> documents = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
            while (it.hasNext()) {
                JsonNode document = it.next();
                if (document != null && !document.isNull() && !document.isEmpty()) {
                    documents.add(document);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return documents;
    }

    static JsonNode kustomization(Path dir) {
        List<JsonNode> documents = documents(dir.resolve("kustomization.yaml"));
        if (documents.size() != 1) {
            throw new IllegalStateException(dir + "/kustomization.yaml: expected one document");
        }
        JsonNode k = documents.get(0);
        for (var it = k.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!List.of("apiVersion", "kind", "namespace", "resources", "patches").contains(field)) {
                throw new IllegalStateException(dir + "/kustomization.yaml: '" + field + "' is not supported by this test");
            }
        }
        return k;
    }

    /** Every object a kustomization directory builds, in order. */
    static List<JsonNode> build(Path dir) {
        JsonNode k = kustomization(dir);
        List<JsonNode> objects = new ArrayList<>();
        for (JsonNode resource : k.path("resources")) {
            Path path = dir.resolve(resource.asText()).normalize();
            if (Files.isDirectory(path)) {
                objects.addAll(build(path));
            } else {
                objects.addAll(documents(path));
            }
        }
        if (k.has("namespace")) {
            for (JsonNode object : objects) {
                if (!object.path("kind").asText().equals("Namespace")) {
                    ((ObjectNode) object.get("metadata")).put("namespace", k.get("namespace").asText());
                }
            }
        }
        for (JsonNode patch : k.path("patches")) {
            String kind = patch.at("/target/kind").asText();
            String name = patch.at("/target/name").asText();
            List<JsonNode> targets = objects.stream()
                    .filter(o -> o.path("kind").asText().equals(kind) && o.at("/metadata/name").asText().equals(name))
                    .toList();
            if (targets.size() != 1) {
                throw new IllegalStateException(dir + ": patch target " + kind + "/" + name + " matches "
                        + targets.size() + " objects");
            }
            JsonNode ops;
            try {
                // One document (readValues would unwrap a top-level sequence into its elements).
                ops = YAML.readTree(dir.resolve(patch.path("path").asText()).toFile());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (ops == null || !ops.isArray()) {
                throw new IllegalStateException(dir + ": " + patch.path("path").asText() + " is not a JSON 6902 patch");
            }
            for (JsonNode op : ops) {
                apply(targets.get(0), op);
            }
        }
        return objects;
    }

    /** JSON 6902 add, replace and remove (the ops the overlays use); a missing path is an error. */
    static void apply(JsonNode target, JsonNode op) {
        String path = op.path("path").asText();
        int slash = path.lastIndexOf('/');
        JsonNode parent = target.at(path.substring(0, slash));
        String last = path.substring(slash + 1).replace("~1", "/").replace("~0", "~");
        String kind = op.path("op").asText();
        if (parent.isMissingNode()) {
            throw new IllegalStateException("patch " + kind + " " + path + ": no parent");
        }
        if (parent instanceof ArrayNode array) {
            boolean append = last.equals("-");
            int index = append ? array.size() : Integer.parseInt(last);
            switch (kind) {
                case "add" -> array.insert(index, op.get("value"));
                case "replace" -> array.set(requireIndex(array, index, path), op.get("value"));
                case "remove" -> array.remove(requireIndex(array, index, path));
                default -> throw new IllegalStateException("patch op " + kind + " is not supported");
            }
            return;
        }
        ObjectNode object = (ObjectNode) parent;
        if (!kind.equals("add") && !object.has(last)) {
            throw new IllegalStateException("patch " + kind + " " + path + ": no such field");
        }
        switch (kind) {
            case "add", "replace" -> object.set(last, op.get("value"));
            case "remove" -> object.remove(last);
            default -> throw new IllegalStateException("patch op " + kind + " is not supported");
        }
    }

    private static int requireIndex(ArrayNode array, int index, String path) {
        if (index < 0 || index >= array.size()) {
            throw new IllegalStateException("patch " + path + ": index out of range");
        }
        return index;
    }

    static List<JsonNode> ofKind(List<JsonNode> objects, String kind) {
        return objects.stream().filter(o -> o.path("kind").asText().equals(kind)).toList();
    }

    static JsonNode one(List<JsonNode> objects, String kind, String name) {
        Optional<JsonNode> found = find(objects, kind, name);
        return found.orElseThrow(() -> new AssertionError("no " + kind + " " + name));
    }

    static Optional<JsonNode> find(List<JsonNode> objects, String kind, String name) {
        List<JsonNode> matches = objects.stream()
                .filter(o -> o.path("kind").asText().equals(kind) && o.at("/metadata/name").asText().equals(name))
                .toList();
        if (matches.size() > 1) {
            throw new AssertionError(matches.size() + " objects " + kind + " " + name);
        }
        return matches.stream().findFirst();
    }

    static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(node -> texts.add(node.asText()));
        return texts;
    }
}
