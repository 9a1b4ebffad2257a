package dev.lodestar.epp.framework.plugin;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.lodestar.api.config.InvalidConfigException;

import java.util.stream.Collectors;

/** Strict decoding of plugin parameters into a record: an unknown or mistyped field is a start-up error. */
public final class PluginParameters {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);

    private PluginParameters() {
    }

    /**
     * Decodes {@code parameters} of plugin {@code pluginName} into {@code type}. A missing or null node
     * decodes as {@code {}}, so a record's compact constructor can apply defaults.
     *
     * @throws InvalidConfigException naming the plugin and the field
     */
    public static <T> T decode(String pluginName, JsonNode parameters, Class<T> type) {
        JsonNode node = parameters == null || parameters.isMissingNode() || parameters.isNull()
                ? JSON.createObjectNode()
                : parameters;
        try {
            return JSON.treeToValue(node, type);
        } catch (UnrecognizedPropertyException e) {
            throw new InvalidConfigException("plugin '" + pluginName + "': unknown parameter '" + e.getPropertyName()
                    + "' (known: " + e.getKnownPropertyIds().stream().map(String::valueOf).sorted()
                    .collect(Collectors.joining(", ")) + ")", e);
        } catch (JsonMappingException e) {
            throw new InvalidConfigException("plugin '" + pluginName + "': invalid parameters: " + e.getOriginalMessage(),
                    e);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new InvalidConfigException("plugin '" + pluginName + "': invalid parameters: " + e.getOriginalMessage(),
                    e);
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException("plugin '" + pluginName + "': " + e.getMessage(), e);
        }
    }
}
