package dev.lodestar.bench;

/** Reading single numbers out of a Prometheus text page, as the benchmarks need from an EPP's {@code /metrics}. */
final class MetricsText {
    private MetricsText() {
    }

    /** The sum of the values of every sample of {@code series} (any labels), or NaN when the page has none. */
    static double sum(String page, String series) {
        double sum = Double.NaN;
        for (String line : page.split("\n")) {
            if (line.startsWith(series) && line.length() > series.length()
                    && (line.charAt(series.length()) == ' ' || line.charAt(series.length()) == '{')) {
                double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                sum = Double.isNaN(sum) ? value : sum + value;
            }
        }
        return sum;
    }
}
