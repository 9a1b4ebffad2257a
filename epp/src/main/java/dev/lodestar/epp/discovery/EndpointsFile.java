package dev.lodestar.epp.discovery;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The endpoints file of {@code file-discovery}, in llm-d Router's schema (YAML or JSON):
 *
 * <pre>
 * endpoints:
 *   - name: vllm-0          # required; the endpoint's name as is
 *     namespace: inference  # optional, default "default"
 *     address: 10.0.0.1     # required IP literal (IPv6 too, which upstream refuses)
 *     port: "8000"          # required, 1-65535; a string upstream, a number accepted too
 *     labels: {model: x}    # optional
 * </pre>
 *
 * Stricter than upstream where a typo would otherwise pass silently: unknown fields and an empty file are
 * errors. A name given twice in a namespace: the later entry wins, as upstream.
 */
final class EndpointsFile {
    static final int MAX_SIZE = 1 << 20;
    static final String DEFAULT_NAMESPACE = "default";

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Set<String> TOP_LEVEL_FIELDS = Set.of("endpoints");
    private static final Set<String> ENTRY_FIELDS = Set.of("name", "namespace", "address", "port", "labels");

    private EndpointsFile() {
    }

    /**
     * @throws IllegalArgumentException saying what is wrong, and where
     */
    static List<EndpointMetadata> parse(byte[] content) {
        if (content.length > MAX_SIZE) {
            throw new IllegalArgumentException("the file is larger than 1 MiB (" + content.length + " bytes)");
        }
        JsonNode root;
        try {
            root = YAML.readTree(content);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("not valid YAML or JSON: " + e.getOriginalMessage()
                    + location(e), e);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read: " + e.getMessage(), e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            throw new IllegalArgumentException("the file is empty (write 'endpoints: []' for an empty pool)");
        }
        if (!root.isObject()) {
            throw new IllegalArgumentException("expected a mapping with 'endpoints', got " + kind(root));
        }
        unknownFields(root, TOP_LEVEL_FIELDS, "");
        JsonNode list = root.path("endpoints");
        if (list.isMissingNode() || list.isNull()) {
            return List.of();
        }
        if (!list.isArray()) {
            throw new IllegalArgumentException("'endpoints' must be a list, got " + kind(list));
        }
        Map<EndpointKey, EndpointMetadata> endpoints = new LinkedHashMap<>();
        for (int i = 0; i < list.size(); i++) {
            EndpointMetadata endpoint = entry(list.get(i), "endpoints[" + i + "]");
            endpoints.put(endpoint.key(), endpoint);
        }
        return List.copyOf(endpoints.values());
    }

    private static EndpointMetadata entry(JsonNode node, String where) {
        if (!node.isObject()) {
            throw new IllegalArgumentException(where + ": expected a mapping, got " + kind(node));
        }
        String name = text(node, "name", where);
        if (name.isEmpty()) {
            throw new IllegalArgumentException(where + ": 'name' is required");
        }
        String at = where + " (" + name + ")";
        unknownFields(node, ENTRY_FIELDS, at + ": ");
        String namespace = text(node, "namespace", at);
        if (namespace.isEmpty()) {
            namespace = DEFAULT_NAMESPACE;
        }
        String address = text(node, "address", at);
        if (address.startsWith("[") && address.endsWith("]")) {
            address = address.substring(1, address.length() - 1);
        }
        if (address.isEmpty()) {
            throw new IllegalArgumentException(at + ": 'address' is required");
        }
        if (!IpLiterals.isIpv4(address) && !IpLiterals.isIpv6(address)) {
            throw new IllegalArgumentException(at + ": invalid IP address '" + address + "' (names are not resolved)");
        }
        JsonNode portNode = node.path("port");
        if (portNode.isMissingNode() || portNode.isNull()) {
            throw new IllegalArgumentException(at + ": 'port' is required");
        }
        String portText = portNode.isTextual() || portNode.isIntegralNumber() ? portNode.asText().trim() : "";
        int port = IpLiterals.port(portText);
        if (port < 0) {
            throw new IllegalArgumentException(at + ": invalid port '" + portNode.asText() + "' (1-65535)");
        }
        Map<String, String> labels = new LinkedHashMap<>();
        JsonNode labelsNode = node.path("labels");
        if (!labelsNode.isMissingNode() && !labelsNode.isNull()) {
            if (!labelsNode.isObject()) {
                throw new IllegalArgumentException(at + ": 'labels' must be a mapping, got " + kind(labelsNode));
            }
            for (Map.Entry<String, JsonNode> label : labelsNode.properties()) {
                if (!label.getValue().isValueNode() || label.getValue().isNull()) {
                    throw new IllegalArgumentException(at + ": label '" + label.getKey() + "' must have a plain value");
                }
                labels.put(label.getKey(), label.getValue().asText());
            }
        }
        return new EndpointMetadata(new EndpointKey(namespace, name), name, address, port,
                IpLiterals.hostPort(address, port), labels);
    }

    private static String text(JsonNode node, String field, String where) {
        JsonNode value = node.path(field);
        if (value.isMissingNode() || value.isNull()) {
            return "";
        }
        if (!value.isTextual() && !value.isNumber()) {
            throw new IllegalArgumentException(where + ": '" + field + "' must be a string, got " + kind(value));
        }
        return value.asText().trim();
    }

    private static void unknownFields(JsonNode node, Set<String> known, String where) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                throw new IllegalArgumentException(where + "unknown field '" + name + "' (known: "
                        + String.join(", ", known.stream().sorted().toList()) + ")");
            }
        }
    }

    private static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case ARRAY -> "a list";
            case OBJECT -> "a mapping";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            default -> node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    private static String location(JacksonException e) {
        return e.getLocation() == null || e.getLocation().getLineNr() < 0 ? ""
                : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
    }

    /** For messages: where entries of the old and new list differ. */
    static String difference(List<EndpointMetadata> before, List<EndpointMetadata> after) {
        Map<EndpointKey, EndpointMetadata> old = new LinkedHashMap<>();
        before.forEach(e -> old.put(e.key(), e));
        List<String> added = new ArrayList<>();
        List<String> changed = new ArrayList<>();
        for (EndpointMetadata endpoint : after) {
            EndpointMetadata previous = old.remove(endpoint.key());
            if (previous == null) {
                added.add(endpoint.key().toString());
            } else if (!previous.equals(endpoint)) {
                changed.add(endpoint.key().toString());
            }
        }
        List<String> removed = old.keySet().stream().map(EndpointKey::toString).toList();
        return "added " + added + ", removed " + removed + ", changed " + changed;
    }
}
