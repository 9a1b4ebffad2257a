package dev.lodestar.epp.plugins.headerbasedtestingfilter;

import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.Filter;
import dev.lodestar.epp.framework.scheduling.LlmRequest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Test only (conformance): keeps the endpoints named in the request header
 * {@value #HEADER}, a comma-separated list of {@code ip} or {@code ip:port} entries (IPv6 with or without
 * brackets). An {@code ip:port} entry must match exactly; a bare {@code ip} selects one endpoint with that
 * address (the last such in the candidate list). The result follows the header's order, with at most one
 * endpoint per IP. A missing or blank header keeps nothing, so the profile fails.
 */
public final class HeaderBasedTestingFilter implements Filter {
    public static final String TYPE = "header-based-testing-filter";
    public static final String HEADER = "test-epp-endpoint-selection";
    public static final PluginFactory FACTORY = (name, parameters, handle) -> {
        PluginParameters.decode(name, parameters, Params.class);
        return new HeaderBasedTestingFilter(name);
    };

    /** The filter takes no parameters; any field is an error. */
    public record Params() {
    }

    private final TypedName typedName;

    public HeaderBasedTestingFilter(String name) {
        this.typedName = new TypedName(TYPE, name);
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public List<Endpoint> filter(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
        String selection = request.header(HEADER);
        if (selection == null || selection.isBlank()) {
            return List.of();
        }
        Map<String, Endpoint> byIp = new HashMap<>();
        Map<String, Endpoint> byIpPort = new HashMap<>();
        for (Endpoint endpoint : endpoints) {
            String ip = stripBrackets(endpoint.metadata().address().strip());
            if (ip.isEmpty()) {
                continue;
            }
            byIp.put(ip, endpoint);
            byIpPort.put(ip + ":" + endpoint.metadata().port(), endpoint);
        }
        List<Endpoint> kept = new ArrayList<>();
        Set<String> seenIps = new HashSet<>();
        for (String raw : selection.split(",", -1)) {
            String item = raw.strip();
            if (item.isEmpty()) {
                continue;
            }
            Optional<HostPort> hostPort = HostPort.split(item);
            String host = stripBrackets(hostPort.map(HostPort::host).orElse(item));
            String port = hostPort.map(HostPort::port).orElse("");
            Endpoint match = port.isEmpty() ? byIp.get(host) : byIpPort.get(host + ":" + port);
            if (match != null && seenIps.add(stripBrackets(match.metadata().address()))) {
                kept.add(match);
            }
        }
        return kept;
    }

    private static String stripBrackets(String address) {
        int start = 0;
        int end = address.length();
        while (start < end && (address.charAt(start) == '[' || address.charAt(start) == ']')) {
            start++;
        }
        while (end > start && (address.charAt(end - 1) == '[' || address.charAt(end - 1) == ']')) {
            end--;
        }
        return address.substring(start, end);
    }

    /** {@code host:port} split as Go's {@code net.SplitHostPort} does; empty when it would fail. */
    record HostPort(String host, String port) {
        static Optional<HostPort> split(String hostPort) {
            int lastColon = hostPort.lastIndexOf(':');
            if (lastColon < 0) {
                return Optional.empty();
            }
            String host;
            int hostStart = 0;
            int hostEnd = 0;
            if (hostPort.charAt(0) == '[') {
                int close = hostPort.indexOf(']');
                if (close < 0 || close + 1 != lastColon) {
                    return Optional.empty();
                }
                host = hostPort.substring(1, close);
                hostStart = 1;
                hostEnd = close + 1;
            } else {
                host = hostPort.substring(0, lastColon);
                if (host.indexOf(':') >= 0) {
                    return Optional.empty();
                }
            }
            if (hostPort.indexOf('[', hostStart) >= 0 || hostPort.indexOf(']', hostEnd) >= 0) {
                return Optional.empty();
            }
            return Optional.of(new HostPort(host, hostPort.substring(lastColon + 1)));
        }
    }
}
