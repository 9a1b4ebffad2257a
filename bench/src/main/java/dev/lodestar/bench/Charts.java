package dev.lodestar.bench;

import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;

/** The look shared by the benchmarks' JFreeChart plots: colours, readable log axes, line style. */
public final class Charts {
    public static final Color[] COLORS = {new Color(0xD62728), new Color(0x1F77B4), new Color(0xFF7F0E),
            new Color(0x2CA02C), new Color(0x9467BD), new Color(0x8C564B)};

    private Charts() {
    }

    public static LogAxis logAxis(String label, XYSeriesCollection dataset) {
        return logAxis(label, dataset, false);
    }

    /**
     * A log axis with readable ticks: decades when the values span more than two of them, else powers of two
     * (1, 2, 4, ... 1024, 2048 ms).
     */
    public static LogAxis logAxis(String label, XYSeriesCollection dataset, boolean yValues) {
        double min = Double.MAX_VALUE;
        double max = 0;
        for (int i = 0; i < dataset.getSeriesCount(); i++) {
            XYSeries series = dataset.getSeries(i);
            for (int j = 0; j < series.getItemCount(); j++) {
                double v = (yValues ? series.getY(j) : series.getX(j)).doubleValue();
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        LogAxis axis = new LogAxis(label);
        axis.setSmallestValue(0.01);
        boolean decades = max > 0 && max / min > 200;
        axis.setTickUnit(new NumberTickUnit(decades ? 1 : Math.log10(2)));
        axis.setNumberFormatOverride(new java.text.DecimalFormat("0.##"));
        axis.setMinorTickCount(decades ? 9 : 1);
        return axis;
    }

    public static void style(XYPlot plot, boolean shapes) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, shapes);
        for (int i = 0; i < plot.getDataset().getSeriesCount(); i++) {
            renderer.setSeriesPaint(i, COLORS[i % COLORS.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        plot.setRenderer(renderer);
    }
}
