package dev.lodestar.epp.discovery;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** IP address literals, checked without name resolution (endpoints are addressed by IP, never by name). */
final class IpLiterals {
    private IpLiterals() {
    }

    /** Whether {@code text} is a dotted IPv4 address; like Go's net.ParseIP, leading zeros are refused. */
    static boolean isIpv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || (part.length() > 1 && part.charAt(0) == '0')) {
                return false;
            }
            for (int i = 0; i < part.length(); i++) {
                if (part.charAt(i) < '0' || part.charAt(i) > '9') {
                    return false;
                }
            }
            if (Integer.parseInt(part) > 255) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code text} (without brackets) is an IPv6 address. */
    static boolean isIpv6(String text) {
        if (text.indexOf(':') < 0) {
            return false;
        }
        try {
            // With brackets the JDK parses a literal or fails; it never falls back to a DNS lookup.
            return InetAddress.getByName("[" + text + "]") instanceof Inet6Address;
        } catch (UnknownHostException | SecurityException e) {
            return false;
        }
    }

    /** {@code host:port}, with an IPv6 host in brackets. */
    static String hostPort(String address, int port) {
        return address.indexOf(':') >= 0 ? "[" + address + "]:" + port : address + ":" + port;
    }

    /** The port in {@code text} (decimal, 1-65535), or -1. */
    static int port(String text) {
        if (text.isEmpty() || text.length() > 5) {
            return -1;
        }
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return -1;
            }
        }
        int port = Integer.parseInt(text);
        return port >= 1 && port <= 65535 ? port : -1;
    }
}
