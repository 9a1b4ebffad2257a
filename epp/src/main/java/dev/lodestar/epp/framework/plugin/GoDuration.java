package dev.lodestar.epp.framework.plugin;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;

/**
 * Durations written the way upstream configuration writes them (Go's {@code time.ParseDuration}, used
 * by Kubernetes' {@code metav1.Duration}): a sequence of decimal numbers with units, e.g. {@code 200ms},
 * {@code 1.5s}, {@code 1h30m}, optionally signed; units {@code ns}, {@code us} ({@code µs}), {@code ms},
 * {@code s}, {@code m}, {@code h}. A lone {@code 0} needs no unit.
 */
public final class GoDuration {
    private static final Map<String, Long> NANOS_PER_UNIT = Map.of(
            "ns", 1L,
            "us", 1_000L,
            "\u00b5s", 1_000L,
            "\u03bcs", 1_000L,
            "ms", 1_000_000L,
            "s", 1_000_000_000L,
            "m", 60_000_000_000L,
            "h", 3_600_000_000_000L);

    private GoDuration() {
    }

    /**
     * @throws IllegalArgumentException when {@code text} is not a Go duration
     */
    public static Duration parse(String text) {
        if (text == null || text.isEmpty()) {
            throw invalid(text);
        }
        int i = 0;
        boolean negative = false;
        if (text.charAt(0) == '-' || text.charAt(0) == '+') {
            negative = text.charAt(0) == '-';
            i++;
        }
        if (text.substring(i).equals("0")) {
            return Duration.ZERO;
        }
        if (i == text.length()) {
            throw invalid(text);
        }
        BigDecimal totalNanos = BigDecimal.ZERO;
        while (i < text.length()) {
            int numberStart = i;
            boolean digits = false;
            while (i < text.length() && isDigit(text.charAt(i))) {
                i++;
                digits = true;
            }
            if (i < text.length() && text.charAt(i) == '.') {
                i++;
                while (i < text.length() && isDigit(text.charAt(i))) {
                    i++;
                    digits = true;
                }
            }
            if (!digits) {
                throw invalid(text);
            }
            BigDecimal number = new BigDecimal(text.substring(numberStart, i));
            int unitStart = i;
            while (i < text.length() && text.charAt(i) != '.' && !isDigit(text.charAt(i))) {
                i++;
            }
            if (unitStart == i) {
                throw new IllegalArgumentException("missing unit in duration \"" + text + "\"");
            }
            Long unit = NANOS_PER_UNIT.get(text.substring(unitStart, i));
            if (unit == null) {
                throw new IllegalArgumentException("unknown unit \"" + text.substring(unitStart, i)
                        + "\" in duration \"" + text + "\"");
            }
            totalNanos = totalNanos.add(number.multiply(BigDecimal.valueOf(unit)));
        }
        long nanos;
        try {
            nanos = totalNanos.longValueExact();
        } catch (ArithmeticException fractionalOrOverflow) {
            if (totalNanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
                throw new IllegalArgumentException("duration \"" + text + "\" is out of range");
            }
            nanos = totalNanos.longValue(); // Go truncates sub-nanosecond fractions
        }
        return Duration.ofNanos(negative ? -nanos : nanos);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("invalid duration \"" + text + "\"");
    }
}
