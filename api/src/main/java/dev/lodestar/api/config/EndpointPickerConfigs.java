package dev.lodestar.api.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads {@link EndpointPickerConfig} YAML (or JSON) strictly: unknown fields, a wrong apiVersion or
 * kind, and malformed YAML are errors that name the problem and where it is.
 */
public final class EndpointPickerConfigs {
    public static final String KIND = "EndpointPickerConfig";
    /** GIE's group and llm-d Router's group; both are accepted. */
    public static final Set<String> API_VERSIONS =
            Set.of("inference.networking.x-k8s.io/v1alpha1", "llm-d.ai/v1alpha1");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private EndpointPickerConfigs() {
    }

    /**
     * Parses a configuration text.
     *
     * @throws InvalidConfigException naming the offending field, or the apiVersion/kind problem
     */
    public static EndpointPickerConfig parse(String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidConfigException("the EndpointPickerConfig is empty");
        }
        EndpointPickerConfig config;
        try {
            config = YAML.readValue(text, EndpointPickerConfig.class);
        } catch (UnrecognizedPropertyException e) {
            throw new InvalidConfigException("unknown field '" + e.getPropertyName() + "' at " + parentPath(e)
                    + " (known: " + e.getKnownPropertyIds().stream().map(String::valueOf).sorted()
                    .collect(Collectors.joining(", ")) + ")", e);
        } catch (JsonMappingException e) {
            if (e.getCause() instanceof StreamReadException syntax) {
                throw new InvalidConfigException("the EndpointPickerConfig is not valid YAML: "
                        + syntax.getOriginalMessage(), e);
            }
            throw new InvalidConfigException("invalid value at " + path(e) + ": " + e.getOriginalMessage(), e);
        } catch (JsonProcessingException e) {
            throw new InvalidConfigException("the EndpointPickerConfig is not valid YAML: " + e.getOriginalMessage(), e);
        }
        if (config == null) {
            throw new InvalidConfigException("the EndpointPickerConfig is empty");
        }
        if (config.apiVersion() != null && !API_VERSIONS.contains(config.apiVersion())) {
            throw new InvalidConfigException("apiVersion '" + config.apiVersion() + "' is not supported; use one of "
                    + API_VERSIONS.stream().sorted().toList());
        }
        if (config.kind() != null && !KIND.equals(config.kind())) {
            throw new InvalidConfigException("kind must be " + KIND + ", got '" + config.kind() + "'");
        }
        return config;
    }

    /** Where the unknown field is: its path without the field itself. */
    private static String parentPath(JsonMappingException e) {
        List<JsonMappingException.Reference> references = e.getPath();
        return path(references.subList(0, Math.max(0, references.size() - 1)));
    }

    private static String path(JsonMappingException e) {
        return path(e.getPath());
    }

    private static String path(List<JsonMappingException.Reference> references) {
        if (references.isEmpty()) {
            return "the top level";
        }
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference reference : references) {
            if (reference.getFieldName() != null) {
                if (!path.isEmpty()) {
                    path.append('.');
                }
                path.append(reference.getFieldName());
            } else if (reference.getIndex() >= 0) {
                path.append('[').append(reference.getIndex()).append(']');
            }
        }
        return path.toString();
    }
}
