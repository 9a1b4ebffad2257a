package dev.lodestar.bench;

import com.fasterxml.jackson.databind.JsonNode;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * PNG plots of EPP-overhead results (one EPP, or several measured in one run), from their {@code epp-overhead.json}:
 * decision-latency CDFs per rate stage, p50 / p99 per rate, and EPP CPU per 1000 requests per rate.
 */
public final class EppOverheadPlots {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 560;

    private EppOverheadPlots() {
    }

    /** Writes the plots of {@code runs} (EPP name -> its epp-overhead.json) into {@code directory}; returns their names. */
    public static List<String> write(Path directory, Map<String, JsonNode> runs) throws IOException {
        System.setProperty("java.awt.headless", "true");
        return List.of(cdf(directory, runs), perRate(directory, runs), cpu(directory, runs));
    }

    /** Markdown image links to the plots. */
    public static String markdown(List<String> files) {
        return files.stream().map(file -> "![" + file + "](" + file + ")").collect(Collectors.joining("\n"));
    }

    private static String cdf(Path directory, Map<String, JsonNode> runs) throws IOException {
        XYSeriesCollection dataset = new XYSeriesCollection();
        runs.forEach((name, run) -> run.path("stages").forEach(stage -> {
            XYSeries series = new XYSeries(name + " " + stage.path("targetRate").asInt() + " req/s", false, true);
            stage.path("decisionLatencyCdfMs").forEach(point ->
                    series.add(Math.max(0.01, point.get(1).asDouble()), point.get(0).asDouble() / 100));
            if (!series.isEmpty()) {
                dataset.addSeries(series);
            }
        }));
        JFreeChart chart = ChartFactory.createXYLineChart("EPP decision latency CDF per rate stage",
                "decision latency (ms, log scale)", "fraction of requests", dataset, PlotOrientation.VERTICAL, true,
                false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setDomainAxis(Charts.logAxis("decision latency (ms, log scale)", dataset));
        ((NumberAxis) plot.getRangeAxis()).setRange(0, 1.0);
        Charts.style(plot, false);
        return save(directory, "decision-latency-cdf.png", chart);
    }

    private static String perRate(Path directory, Map<String, JsonNode> runs) throws IOException {
        XYSeriesCollection dataset = new XYSeriesCollection();
        runs.forEach((name, run) -> {
            for (String percentile : List.of("p50", "p99")) {
                XYSeries series = new XYSeries(name + " " + percentile, false, true);
                run.path("stages").forEach(stage -> series.add(stage.path("targetRate").asDouble(),
                        Math.max(0.01, stage.path("decisionLatencyFromIntendedMs").path(percentile).asDouble())));
                dataset.addSeries(series);
            }
        });
        JFreeChart chart = ChartFactory.createXYLineChart("EPP decision latency per offered rate",
                "offered rate (requests/s)", "decision latency (ms, log scale)", dataset, PlotOrientation.VERTICAL,
                true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setRangeAxis(Charts.logAxis("decision latency (ms, log scale)", dataset, true));
        Charts.style(plot, true);
        return save(directory, "decision-latency-per-rate.png", chart);
    }

    private static String cpu(Path directory, Map<String, JsonNode> runs) throws IOException {
        DefaultCategoryDataset dataset = new DefaultCategoryDataset();
        runs.forEach((name, run) -> run.path("stages").forEach(stage -> dataset.addValue(
                stage.path("cpuSecondsPer1000Requests").path("epp").asDouble(Double.NaN), name,
                stage.path("targetRate").asInt() + " req/s")));
        JFreeChart chart = ChartFactory.createBarChart("EPP CPU seconds per 1000 requests (including its metrics scrapes)",
                "offered rate", "CPU s / 1000 requests", dataset, PlotOrientation.VERTICAL, true, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        for (int i = 0; i < dataset.getRowCount(); i++) {
            plot.getRenderer().setSeriesPaint(i, Charts.COLORS[i % Charts.COLORS.length]);
        }
        ((BarRenderer) plot.getRenderer()).setBarPainter(new StandardBarPainter());
        return save(directory, "epp-cpu-per-request.png", chart);
    }

    private static String save(Path directory, String name, JFreeChart chart) throws IOException {
        ChartUtils.saveChartAsPNG(directory.resolve(name).toFile(), chart, WIDTH, HEIGHT);
        return name;
    }
}
