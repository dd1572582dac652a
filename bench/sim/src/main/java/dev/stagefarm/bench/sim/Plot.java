package dev.stagefarm.bench.sim;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.List;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The sweep as one PNG: per graph (columns), ratio to the lower bound, mean queue wait and coordinator CPU per job (rows), against workers. */
final class Plot {

    private static final int PANEL_W = 620;
    private static final int PANEL_H = 380;

    /** @param floor on a log axis, the smallest value drawn: smaller ones (a wait of 0) are drawn there */
    private record Row(String title, String axis, ToDoubleFunction<Point> value, double floor) {
        boolean log() {
            return floor > 0;
        }
    }

    private static final List<Row> ROWS = List.of(
            new Row("makespan / lower bound", "ratio (1 = optimal)", Point::ratioToLowerBound, 0),
            new Row("mean queue wait per job", "seconds (0 drawn at 0.01)", p -> p.meanWaitNanos() / 1e9, 0.01),
            new Row("coordinator CPU per placed job", "microseconds", p -> p.cpuNanosPerPlacement() / 1e3, 0));

    /** Dark enough to read on white, told apart without red-green. */
    private static final List<Color> COLOURS = List.of(
            new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0x9467bd), new Color(0x111111));

    private Plot() {}

    static void write(Path png, List<String> graphs, List<Integer> buildCounts, List<Point> points) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage image =
                new BufferedImage(PANEL_W * graphs.size(), PANEL_H * ROWS.size(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        for (int col = 0; col < graphs.size(); col++) {
            for (int row = 0; row < ROWS.size(); row++) {
                JFreeChart chart = chart(graphs.get(col), ROWS.get(row), buildCounts, points);
                chart.draw(g, new Rectangle(col * PANEL_W, row * PANEL_H, PANEL_W, PANEL_H));
            }
        }
        g.dispose();
        ImageIO.write(image, "png", png.toFile());
    }

    private static JFreeChart chart(String graph, Row row, List<Integer> buildCounts, List<Point> points) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (int builds : buildCounts) {
            XYSeries series = new XYSeries(builds + (builds == 1 ? " build" : " builds"));
            points.stream()
                    .filter(p -> p.graph().equals(graph) && p.builds() == builds)
                    .forEach(p -> series.add(p.workers(), Math.max(row.value().applyAsDouble(p), row.floor())));
            data.addSeries(series);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(
                graph + ": " + row.title(),
                "workers (2 slots each)",
                row.axis(),
                data,
                PlotOrientation.VERTICAL,
                true,
                false,
                false);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        XYPlot plot = chart.getXYPlot();
        LogAxis workers = new LogAxis("workers (2 slots each)");
        workers.setBase(2);
        workers.setTickUnit(new NumberTickUnit(1));
        workers.setNumberFormatOverride(new DecimalFormat("0"));
        plot.setDomainAxis(workers);
        if (row.log()) {
            LogAxis values = new LogAxis(row.axis());
            values.setBase(10);
            values.setSmallestValue(row.floor());
            values.setTickUnit(new NumberTickUnit(1)); // a tick per decade
            values.setNumberFormatOverride(new DecimalFormat("0.##"));
            plot.setRangeAxis(values);
        } else {
            ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        }
        XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            lines.setSeriesPaint(i, COLOURS.get(i % COLOURS.size()));
            lines.setSeriesStroke(i, new BasicStroke(2f));
        }
        plot.setRenderer(lines);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        return chart;
    }
}
