package dev.lodestar.simulator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns command-line flags and an optional YAML file into the configurations of a fleet.
 *
 * <p>Precedence, lowest first: defaults, top-level keys of the {@code --config} file, flags, and, for
 * one server, its entry under {@code servers:} in the file. Keys are the flag names without dashes,
 * as in llm-d-inference-sim's config file. A fleet is either {@code fleet-size} copies on consecutive
 * IPv4 addresses starting at {@code host}, or the list under {@code servers:}. Servers without a
 * {@code pod-name} are named {@code lodestar-sim-<index>} (a single server takes {@code $POD_NAME}
 * when set).
 */
final class FleetConfigLoader {
    static final String CONFIG = "config";
    static final String FLEET_SIZE = "fleet-size";
    static final String SERVERS = "servers";

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();

    private FleetConfigLoader() {
    }

    /** Result of reading the command line: either configurations to run or help text to print. */
    record Loaded(List<SimulatorConfig> servers, Optional<String> help) {
    }

    /**
     * @throws IllegalArgumentException with a message fit for the user when anything is invalid
     */
    static Loaded load(String... args) {
        CommandSpec spec = commandSpec();
        CommandLine commandLine = new CommandLine(spec);
        CommandLine.ParseResult parsed;
        try {
            parsed = commandLine.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            throw new IllegalArgumentException(e.getMessage() + " (see --help)", e);
        }
        if (parsed.isUsageHelpRequested()) {
            return new Loaded(List.of(), Optional.of(commandLine.getUsageMessage()));
        }

        Map<String, List<String>> global = new LinkedHashMap<>();
        List<Map<String, List<String>>> serverEntries = new ArrayList<>();
        Optional<String> configFile = parsed.hasMatchedOption("--" + CONFIG)
                ? Optional.of(parsed.matchedOption("--" + CONFIG).<String>getValue())
                : Optional.empty();
        if (configFile.isPresent()) {
            readFile(Path.of(configFile.get()), global, serverEntries);
        }
        for (OptionSpec option : parsed.matchedOptions()) {
            String name = option.longestName().substring(2);
            if (name.equals(CONFIG) || name.equals("help")) {
                continue;
            }
            Object value = option.getValue();
            List<String> values = value instanceof List<?> list
                    ? list.stream().map(String::valueOf).toList()
                    : List.of(String.valueOf(value));
            global.put(name, values);
        }
        return new Loaded(expand(global, serverEntries), Optional.empty());
    }

    private static List<SimulatorConfig> expand(Map<String, List<String>> global,
                                                List<Map<String, List<String>>> serverEntries) {
        int fleetSize = 1;
        List<String> fleetSizeValue = global.remove(FLEET_SIZE);
        if (fleetSizeValue != null) {
            try {
                fleetSize = Integer.parseInt(fleetSizeValue.get(0).trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid fleet-size '" + fleetSizeValue.get(0) + "'");
            }
            if (fleetSize < 1) {
                throw new IllegalArgumentException("fleet-size must be at least 1, got " + fleetSize);
            }
        }
        if (!serverEntries.isEmpty() && fleetSize > 1) {
            throw new IllegalArgumentException("use either fleet-size or a servers: list, not both");
        }
        SimulatorConfig.Builder base = SimulatorConfig.builder();
        global.forEach((key, values) -> ConfigKeys.apply(base, key, values));
        SimulatorConfig baseConfig = base.build();
        boolean podNameGiven = global.containsKey("pod-name") || !baseConfig.podName().isEmpty();

        List<SimulatorConfig> configs = new ArrayList<>();
        if (!serverEntries.isEmpty()) {
            for (int i = 0; i < serverEntries.size(); i++) {
                SimulatorConfig.Builder builder = baseConfig.toBuilder().podName("lodestar-sim-" + i);
                int index = i;
                serverEntries.get(i).forEach((key, values) -> {
                    try {
                        ConfigKeys.apply(builder, key, values);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("servers[" + index + "]: " + e.getMessage(), e);
                    }
                });
                configs.add(builder.build());
            }
        } else if (fleetSize == 1) {
            configs.add(podNameGiven ? baseConfig : baseConfig.toBuilder().podName("lodestar-sim-0").build());
        } else {
            byte[] first = ipv4(baseConfig.host());
            for (int i = 0; i < fleetSize; i++) {
                String podName = global.containsKey("pod-name") ? baseConfig.podName() + "-" + i : "lodestar-sim-" + i;
                configs.add(baseConfig.toBuilder().host(addIpv4(first, i)).podName(podName).build());
            }
        }
        checkDistinctListeners(configs);
        return List.copyOf(configs);
    }

    private static void readFile(Path path, Map<String, List<String>> global,
                                 List<Map<String, List<String>>> serverEntries) {
        JsonNode root;
        try {
            root = YAML.readTree(Files.readAllBytes(path));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("config file " + path + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read config file " + path + ": " + e.getMessage(), e);
        }
        if (root == null || root.isNull() || root.isMissingNode()) {
            return;
        }
        if (!root.isObject()) {
            throw new IllegalArgumentException("config file " + path + " must hold a YAML mapping");
        }
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            String key = field.getKey();
            if (key.equals(SERVERS)) {
                if (!field.getValue().isArray()) {
                    throw new IllegalArgumentException(path + ": servers must be a list of mappings");
                }
                for (JsonNode entry : field.getValue()) {
                    serverEntries.add(entries(path, entry, "servers[" + serverEntries.size() + "]"));
                }
                continue;
            }
            if (!key.equals(FLEET_SIZE) && !ConfigKeys.isKey(key)) {
                throw new IllegalArgumentException(path + ": unknown key '" + key + "'");
            }
            global.put(key, values(path, key, field.getValue()));
        }
    }

    private static Map<String, List<String>> entries(Path path, JsonNode entry, String where) {
        if (!entry.isObject()) {
            throw new IllegalArgumentException(path + ": " + where + " must be a mapping");
        }
        Map<String, List<String>> values = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : entry.properties()) {
            if (!ConfigKeys.isKey(field.getKey())) {
                throw new IllegalArgumentException(path + ": " + where + ": unknown key '" + field.getKey() + "'");
            }
            values.put(field.getKey(), values(path, field.getKey(), field.getValue()));
        }
        return values;
    }

    private static List<String> values(Path path, String key, JsonNode node) {
        if (node.isArray()) {
            List<String> values = new ArrayList<>();
            node.forEach(item -> values.add(text(path, key, item)));
            return values;
        }
        return List.of(text(path, key, node));
    }

    private static String text(Path path, String key, JsonNode node) {
        if (node.isObject()) {
            try {
                return JSON.writeValueAsString(node);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(path + ": cannot read " + key, e);
            }
        }
        if (node.isNull() || node.isContainerNode()) {
            throw new IllegalArgumentException(path + ": " + key + " has no usable value");
        }
        return node.asText();
    }

    private static CommandSpec commandSpec() {
        CommandSpec spec = CommandSpec.create().name("simulator");
        spec.usageMessage().abbreviateSynopsis(true).width(110);
        spec.usageMessage().description(
                "A vLLM-compatible model server simulator. One process can run a fleet of servers.",
                "Durations take Go syntax (250ms, 1.5s, 750us) or a number of milliseconds.");
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help.").build());
        spec.addOption(OptionSpec.builder("--" + CONFIG).paramLabel("<file>").type(String.class)
                .description("YAML file with the same keys as the flags, plus 'servers:' (a list of per-server"
                        + " settings).").build());
        spec.addOption(OptionSpec.builder("--" + FLEET_SIZE).paramLabel("<n>").type(String.class)
                .description("Number of servers, on consecutive IPv4 addresses from --host (default: 1).").build());
        for (ConfigKeys.Key key : ConfigKeys.all()) {
            OptionSpec.Builder option = OptionSpec.builder("--" + key.name())
                    .description((key.description() + " (default: " + key.defaultText() + ")").replace("%", "%%"));
            if (key.multiValued()) {
                option.type(List.class).auxiliaryTypes(String.class).arity("1..*").paramLabel("<value>");
            } else {
                option.type(String.class).paramLabel("<value>");
            }
            spec.addOption(option.build());
        }
        return spec;
    }

    private static byte[] ipv4(String host) {
        try {
            InetAddress address = InetAddress.getByName(host);
            if (address instanceof Inet4Address && !address.isAnyLocalAddress()) {
                return address.getAddress();
            }
        } catch (UnknownHostException e) {
            // reported below
        }
        throw new IllegalArgumentException("fleet-size > 1 needs --host to be an IPv4 address such as 127.0.1.1, got '"
                + host + "'");
    }

    private static String addIpv4(byte[] first, int offset) {
        long value = 0;
        for (byte b : first) {
            value = (value << 8) | (b & 0xff);
        }
        value += offset;
        return ((value >> 24) & 0xff) + "." + ((value >> 16) & 0xff) + "." + ((value >> 8) & 0xff) + "." + (value & 0xff);
    }

    private static void checkDistinctListeners(List<SimulatorConfig> configs) {
        List<String> seen = new ArrayList<>();
        for (SimulatorConfig config : configs) {
            String listener = config.host() + ":" + config.port();
            if (config.port() != 0 && seen.contains(listener)) {
                throw new IllegalArgumentException("two servers would listen on " + listener);
            }
            seen.add(listener);
        }
    }
}
