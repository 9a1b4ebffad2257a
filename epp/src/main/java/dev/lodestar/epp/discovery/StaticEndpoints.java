package dev.lodestar.epp.discovery;

import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.spi.PoolSource;
import dev.lodestar.epp.spi.PoolWriter;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A fixed pool given on the command line ({@code --static-endpoints}): comma-separated entries
 * {@code ip:port}, {@code name=ip:port} or {@code namespace/name=ip:port}, IPv6 addresses in brackets
 * ({@code [fd00::1]:8000}). The namespace defaults to {@value #DEFAULT_NAMESPACE}.
 *
 * <p>Each entry is one endpoint of a "pod" (the name, or the address when unnamed), named as GIE names
 * endpoints: {@code <pod>-rank-<i>}, where i counts the pod's earlier entries. So
 * {@code a=10.0.0.1:8000,a=10.0.0.1:8001} gives {@code a-rank-0} and {@code a-rank-1}, and
 * {@code 10.0.0.2:8000} gives {@code 10.0.0.2-rank-0}. Metrics are scraped from the endpoint's own
 * {@code ip:port}. The pool is synced as soon as the source starts.
 */
public final class StaticEndpoints implements PoolSource {
    public static final String DEFAULT_NAMESPACE = "default";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?");

    private final List<EndpointMetadata> endpoints;

    private StaticEndpoints(List<EndpointMetadata> endpoints) {
        this.endpoints = List.copyOf(endpoints);
    }

    /**
     * Parses the flag's value.
     *
     * @throws IllegalArgumentException naming the entry and what is wrong with it
     */
    public static StaticEndpoints parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("static endpoints: no endpoints given");
        }
        String[] entries = spec.split(",", -1);
        List<EndpointMetadata> endpoints = new ArrayList<>(entries.length);
        Map<String, Integer> ranks = new HashMap<>();
        Set<String> hostPorts = new HashSet<>();
        for (int i = 0; i < entries.length; i++) {
            String entry = entries[i].trim();
            try {
                EndpointMetadata endpoint = entry(entry, ranks);
                if (!hostPorts.add(endpoint.hostPort())) {
                    throw new IllegalArgumentException(endpoint.hostPort() + " is listed twice");
                }
                endpoints.add(endpoint);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("static endpoints: entry " + (i + 1)
                        + (entry.isEmpty() ? "" : " '" + entry + "'") + ": " + e.getMessage(), e);
            }
        }
        return new StaticEndpoints(endpoints);
    }

    private static EndpointMetadata entry(String entry, Map<String, Integer> ranks) {
        if (entry.isEmpty()) {
            throw new IllegalArgumentException("empty entry");
        }
        String namespace = DEFAULT_NAMESPACE;
        String name = null;
        String location = entry;
        int equals = entry.indexOf('=');
        if (equals >= 0) {
            String identity = entry.substring(0, equals).trim();
            location = entry.substring(equals + 1).trim();
            int slash = identity.indexOf('/');
            if (slash >= 0) {
                namespace = identity.substring(0, slash).trim();
                identity = identity.substring(slash + 1).trim();
                checkName("namespace", namespace);
            }
            checkName("name", identity);
            name = identity;
        }
        String address;
        String portText;
        if (location.startsWith("[")) {
            int close = location.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("missing ']' after the IPv6 address");
            }
            address = location.substring(1, close);
            if (!location.startsWith(":", close + 1)) {
                throw new IllegalArgumentException("missing ':<port>' after [" + address + "]");
            }
            portText = location.substring(close + 2);
            if (!IpLiterals.isIpv6(address)) {
                throw new IllegalArgumentException("'" + address + "' is not an IPv6 address");
            }
        } else {
            int colon = location.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("missing ':<port>' (expected ip:port)");
            }
            address = location.substring(0, colon);
            portText = location.substring(colon + 1);
            if (address.indexOf(':') >= 0) {
                throw new IllegalArgumentException("IPv6 addresses go in brackets, e.g. [" + address + "]:" + portText);
            }
            if (!IpLiterals.isIpv4(address)) {
                throw new IllegalArgumentException("'" + address + "' is not an IPv4 address (names are not resolved)");
            }
        }
        int port = IpLiterals.port(portText);
        if (port < 0) {
            throw new IllegalArgumentException("invalid port '" + portText + "' (1-65535)");
        }
        String pod = name == null ? address : name;
        int rank = ranks.merge(namespace + "/" + pod, 1, Integer::sum) - 1;
        return new EndpointMetadata(EndpointKey.ofRank(namespace, pod, rank), pod, address, port,
                IpLiterals.hostPort(address, port), Map.of());
    }

    private static void checkName(String what, String value) {
        if (!NAME.matcher(value).matches()) {
            throw new IllegalArgumentException("invalid " + what + " '" + value
                    + "' (letters, digits, '.', '_', '-'; starting and ending with a letter or digit)");
        }
    }

    /** The endpoints, in the order given. */
    public List<EndpointMetadata> endpoints() {
        return endpoints;
    }

    @Override
    public void start(PoolWriter writer) {
        writer.replaceEndpoints(endpoints);
        writer.markSynced();
    }

    @Override
    public void close() {
    }
}
