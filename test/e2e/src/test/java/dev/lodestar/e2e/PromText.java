package dev.lodestar.e2e;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Samples of a Prometheus text exposition (format 0.0.4), keyed {@code name{labels}} exactly as written
 * ({@code name} alone without labels). Enough for asserting on the EPP's and the simulators' metrics: no
 * escaping rules beyond what the key keeps verbatim, timestamps dropped.
 */
public record PromText(Map<String, Double> samples) {

    public static PromText parse(String text) {
        Map<String, Double> samples = new LinkedHashMap<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int close = line.lastIndexOf('}');
            int split = close >= 0 ? close + 1 : line.indexOf(' ');
            if (split <= 0 || split >= line.length()) {
                throw new IllegalArgumentException("not a sample line: " + line);
            }
            String series = line.substring(0, split).strip();
            String[] rest = line.substring(split).strip().split("\\s+");
            samples.put(series, value(rest[0]));
        }
        return new PromText(Map.copyOf(samples));
    }

    private static double value(String text) {
        return switch (text) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(text);
        };
    }

    /** The sum of every series of metric {@code name} (any labels); 0 when there is none. */
    public double sum(String name) {
        double sum = 0;
        for (Map.Entry<String, Double> sample : samples.entrySet()) {
            if (nameOf(sample.getKey()).equals(name)) {
                sum += sample.getValue();
            }
        }
        return sum;
    }

    /** Whether some series of metric {@code name} exists. */
    public boolean has(String name) {
        return samples.keySet().stream().anyMatch(series -> nameOf(series).equals(name));
    }

    /**
     * The sum of the series of metric {@code name} whose labels include every {@code name="value"} pair given as
     * {@code label("model_name", "llama")}.
     */
    public double sum(String name, String... labels) {
        double sum = 0;
        for (Map.Entry<String, Double> sample : samples.entrySet()) {
            if (nameOf(sample.getKey()).equals(name) && containsAll(sample.getKey(), labels)) {
                sum += sample.getValue();
            }
        }
        return sum;
    }

    /** A label pair as the exposition writes it: {@code name="value"} (quotes and backslashes escaped). */
    public static String label(String name, String value) {
        return name + "=\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static boolean containsAll(String series, String[] labels) {
        for (String label : labels) {
            if (!series.contains("{" + label + ",") && !series.contains("," + label + ",")
                    && !series.contains("," + label + "}") && !series.contains("{" + label + "}")) {
                return false;
            }
        }
        return true;
    }

    private static String nameOf(String series) {
        int brace = series.indexOf('{');
        return brace < 0 ? series : series.substring(0, brace);
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        samples.forEach((series, value) -> text.append(series).append(' ').append(value).append('\n'));
        return text.toString();
    }
}
