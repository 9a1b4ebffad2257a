package dev.lodestar.bench.routing;

import dev.lodestar.bench.Charts;
import org.HdrHistogram.Histogram;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * PNG plots of a run with JFreeChart, rendered headless: per workload, latency CDFs (TTFT, inter-token,
 * end-to-end; all stages together) with one line per routing configuration, TTFT p90 per rate stage, and
 * output-token throughput bars per stage.
 */
final class Plots {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 560;

    private Plots() {
    }

    /** Writes every plot into {@code directory}; returns the files written (names relative to it). */
    static List<String> write(Path directory, Results results) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<String> files = new ArrayList<>();
        for (String workload : results.workloads()) {
            files.add(cdf(directory, results, workload, "ttft", "TTFT", s -> s.ttft));
            files.add(cdf(directory, results, workload, "itl", "inter-token latency", s -> s.itl));
            files.add(cdf(directory, results, workload, "e2e", "end-to-end latency", s -> s.e2e));
            files.add(ttftPerStage(directory, results, workload));
            files.add(throughput(directory, results, workload));
        }
        return files;
    }

    private static String cdf(Path directory, Results results, String workload, String key, String title,
                              Function<StageStats, Histogram> metric) throws IOException {
        XYSeriesCollection dataset = new XYSeriesCollection();
        for (String config : results.configs()) {
            StageStats all = results.whole(config, workload);
            if (all == null) {
                continue;
            }
            Histogram histogram = metric.apply(all);
            XYSeries series = new XYSeries(config, false, true);
            if (histogram.getTotalCount() > 0) {
                for (double p = 0; p <= 100; p += 0.5) {
                    series.add(Math.max(0.01, histogram.getValueAtPercentile(p) / 1000.0), p / 100);
                }
                series.add(Math.max(0.01, histogram.getMaxValue() / 1000.0), 1.0);
            }
            dataset.addSeries(series);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(workload + ": " + title + " CDF (all rate stages)",
                title + " (ms, log scale)", "fraction of requests", dataset, PlotOrientation.VERTICAL, true, false,
                false);
        XYPlot plot = chart.getXYPlot();
        plot.setDomainAxis(Charts.logAxis(title + " (ms, log scale)", dataset));
        ((NumberAxis) plot.getRangeAxis()).setRange(0, 1.0);
        Charts.style(plot, false);
        String name = "cdf-" + key + "-" + workload + ".png";
        ChartUtils.saveChartAsPNG(directory.resolve(name).toFile(), chart, WIDTH, HEIGHT);
        return name;
    }

    private static String ttftPerStage(Path directory, Results results, String workload) throws IOException {
        XYSeriesCollection dataset = new XYSeriesCollection();
        for (String config : results.configs()) {
            XYSeries series = new XYSeries(config, false, true);
            for (StageStats stage : results.stages(config, workload)) {
                double value = stage.ttftMs(90);
                if (!Double.isNaN(value)) {
                    series.add(stage.rate(), Math.max(0.01, value));
                }
            }
            dataset.addSeries(series);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(workload + ": TTFT p90 per rate stage",
                "offered rate (requests/s)", "TTFT p90 (ms, log scale)", dataset, PlotOrientation.VERTICAL, true,
                false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setRangeAxis(Charts.logAxis("TTFT p90 (ms, log scale)", dataset, true));
        Charts.style(plot, true);
        String name = "ttft-p90-per-stage-" + workload + ".png";
        ChartUtils.saveChartAsPNG(directory.resolve(name).toFile(), chart, WIDTH, HEIGHT);
        return name;
    }

    private static String throughput(Path directory, Results results, String workload) throws IOException {
        DefaultCategoryDataset dataset = new DefaultCategoryDataset();
        for (String config : results.configs()) {
            for (StageStats stage : results.stages(config, workload)) {
                dataset.addValue(stage.outputTokensPerSecond(), config,
                        Report.rate(stage.rate()) + " req/s");
            }
        }
        JFreeChart chart = ChartFactory.createBarChart(workload + ": output tokens/s completed per rate stage",
                "offered rate", "output tokens/s", dataset, PlotOrientation.VERTICAL, true, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        for (int i = 0; i < dataset.getRowCount(); i++) {
            plot.getRenderer().setSeriesPaint(i, Charts.COLORS[i % Charts.COLORS.length]);
        }
        ((org.jfree.chart.renderer.category.BarRenderer) plot.getRenderer())
                .setBarPainter(new org.jfree.chart.renderer.category.StandardBarPainter());
        String name = "throughput-" + workload + ".png";
        ChartUtils.saveChartAsPNG(directory.resolve(name).toFile(), chart, WIDTH, HEIGHT);
        return name;
    }
}
