//! Plots of bench results (plotters): PNG and SVG files, and SVG text for the HTML report.
//! Text is drawn with DejaVu Sans embedded in the binary (assets/fonts), so no system font
//! is needed. Command line only: the library knows nothing of plots.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Context;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

/// DejaVu Sans (Bitstream Vera license: assets/fonts/DejaVuSans-LICENSE.txt).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
/// Every figure's size in pixels.
const SIZE: (u32, u32) = (960, 560);

type DrawResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// One measured run: one point of a sweep (or the only one of a single run).
#[derive(Clone, Debug)]
pub struct Point {
    /// The swept parameter's value ("run" for a single run).
    pub label: String,
    /// End-to-end throughput, transactions per second.
    pub tps: f64,
    /// Signature verification alone, transactions per second, when measured.
    pub sigverify_only_tps: Option<f64>,
    /// Whether the single-threaded reference gave the same results, when checked.
    pub reference_match: Option<bool>,
    /// Latency quantiles in milliseconds: p50, p90, p99, p99.9, max.
    pub latency_ms: [f64; 5],
    /// The latency histogram: (bucket upper edge in milliseconds, transactions).
    pub latency_histogram: Vec<(f64, u64)>,
    /// Each stage's name and busy share of the wall time (0 to 1), in pipeline order.
    pub stages: Vec<(String, f64)>,
}

/// The names of [`Point::latency_ms`]' quantiles.
pub const QUANTILES: [&str; 5] = ["p50", "p90", "p99", "p99.9", "max"];

/// What the bench plots show: the points, what was swept, and the caption.
#[derive(Clone, Debug)]
pub struct BenchPlots {
    /// The swept parameter (e.g. "contention"), or "run" for a single run.
    pub param: String,
    /// The caption line: machine and commit.
    pub caption: String,
    /// The runs, in sweep order.
    pub points: Vec<Point>,
}

/// A speedup measurement of `bench-exec`: parallel over sequential at one setting.
#[derive(Clone, Debug)]
pub struct SpeedupPoint {
    /// The swept parameter's value (threads, or work rounds).
    pub label: String,
    /// Parallel throughput over sequential throughput.
    pub speedup: f64,
    /// Sequential transactions per second.
    pub sequential_tps: f64,
    /// Parallel transactions per second.
    pub parallel_tps: f64,
}

/// What the `bench-exec` plot shows.
#[derive(Clone, Debug)]
pub struct ExecPlots {
    /// The swept parameter (e.g. "threads"), or "run".
    pub param: String,
    /// The caption line: machine and commit.
    pub caption: String,
    /// The runs, in sweep order.
    pub points: Vec<SpeedupPoint>,
}

/// One rendered figure: its file stem and title, and the SVG text.
#[derive(Clone, Debug)]
pub struct Figure {
    /// File stem, e.g. "throughput".
    pub name: &'static str,
    /// A one-line title.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

fn ensure_font() -> anyhow::Result<()> {
    static LOADED: OnceLock<bool> = OnceLock::new();
    let ok = *LOADED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    anyhow::ensure!(ok, "cannot load the embedded font");
    Ok(())
}

fn err(e: Box<dyn std::error::Error + Send + Sync>) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// A figure's one-line title.
trait Titled {
    fn title(&self) -> String;
}

/// A figure drawn on either backend.
trait Draw: Titled {
    fn name(&self) -> &'static str;
    fn draw_svg(&self, root: &DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult;
    fn draw_png(&self, root: &DrawingArea<BitMapBackend<'_>, Shift>) -> DrawResult;
}

macro_rules! draw_impl {
    ($ty:ty, $name:literal, $f:ident) => {
        impl Draw for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn draw_svg(&self, root: &DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult {
                $f(root, self.0, &self.title())
            }
            fn draw_png(&self, root: &DrawingArea<BitMapBackend<'_>, Shift>) -> DrawResult {
                $f(root, self.0, &self.title())
            }
        }
    };
}

struct Throughput<'a>(&'a BenchPlots);
struct Latency<'a>(&'a BenchPlots);
struct Histogram<'a>(&'a BenchPlots);
struct Stages<'a>(&'a BenchPlots);
struct Speedup<'a>(&'a ExecPlots);

impl Titled for Throughput<'_> {
    fn title(&self) -> String {
        format!("Throughput{}", by(&self.0.param))
    }
}
impl Titled for Latency<'_> {
    fn title(&self) -> String {
        "Latency distribution, arrival to result".into()
    }
}
impl Titled for Histogram<'_> {
    fn title(&self) -> String {
        "Latency histogram, arrival to result".into()
    }
}
impl Titled for Stages<'_> {
    fn title(&self) -> String {
        format!("Stage busy share{}", by(&self.0.param))
    }
}
impl Titled for Speedup<'_> {
    fn title(&self) -> String {
        format!("Parallel execution speedup{}", by(&self.0.param))
    }
}

draw_impl!(Throughput<'_>, "throughput", draw_throughput);
draw_impl!(Latency<'_>, "latency", draw_latency);
draw_impl!(Stages<'_>, "stages", draw_stages);
draw_impl!(Histogram<'_>, "latency-histogram", draw_histogram);
draw_impl!(Speedup<'_>, "speedup", draw_speedup);

fn render_svg(d: &dyn Draw) -> anyhow::Result<Figure> {
    ensure_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        d.draw_svg(&root)
            .map_err(err)
            .with_context(|| format!("cannot draw the {} plot", d.name()))?;
        root.present()
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("cannot draw the {} plot", d.name()))?;
    }
    Ok(Figure {
        name: d.name(),
        title: d.title(),
        svg,
    })
}

fn write_png(d: &dyn Draw, path: &Path) -> anyhow::Result<()> {
    ensure_font()?;
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    d.draw_png(&root)
        .map_err(err)
        .with_context(|| format!("cannot draw {}", path.display()))?;
    root.present()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn figures<'a>(plots: &'a [&'a dyn Draw]) -> anyhow::Result<Vec<Figure>> {
    plots.iter().map(|d| render_svg(*d)).collect()
}

/// Writes NAME.png and NAME.svg for every figure into `dir` (created if need be); returns
/// the SVG figures (for the report) and the files written.
fn write_all(dir: &Path, plots: &[&dyn Draw]) -> anyhow::Result<(Vec<Figure>, Vec<PathBuf>)> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the plot directory {}", dir.display()))?;
    let figs = figures(plots)?;
    let mut files = Vec::new();
    for (fig, d) in figs.iter().zip(plots) {
        let svg = dir.join(format!("{}.svg", fig.name));
        std::fs::write(&svg, &fig.svg)
            .with_context(|| format!("cannot write {}", svg.display()))?;
        let png = dir.join(format!("{}.png", fig.name));
        write_png(*d, &png)?;
        files.push(png);
        files.push(svg);
    }
    Ok((figs, files))
}

impl BenchPlots {
    /// The figures as SVG text: throughput, latency, latency histogram, stages.
    pub fn svgs(&self) -> anyhow::Result<Vec<Figure>> {
        figures(&[
            &Throughput(self),
            &Latency(self),
            &Histogram(self),
            &Stages(self),
        ])
    }

    /// Writes throughput, latency, latency-histogram and stages as PNG and SVG into `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<(Vec<Figure>, Vec<PathBuf>)> {
        write_all(
            dir,
            &[
                &Throughput(self),
                &Latency(self),
                &Histogram(self),
                &Stages(self),
            ],
        )
    }
}

impl ExecPlots {
    /// The speedup figure as SVG text.
    pub fn svgs(&self) -> anyhow::Result<Vec<Figure>> {
        figures(&[&Speedup(self)])
    }

    /// Writes speedup.png and speedup.svg into `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<(Vec<Figure>, Vec<PathBuf>)> {
        write_all(dir, &[&Speedup(self)])
    }
}

/// " by PARAM" for a sweep's titles, nothing for a single run.
fn by(param: &str) -> String {
    if param == "run" {
        String::new()
    } else {
        format!(" by {param}")
    }
}

/// Tick values in `0..n` are the categories: their labels, nothing between them.
fn category_label(labels: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    labels.get(i as usize).cloned().unwrap_or_default()
}

/// Splits off the bottom strip of `root` and writes `caption` in it; returns the rest.
fn with_caption<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    caption: &str,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (_, h) = root.dim_in_pixel();
    let (upper, lower) = root.split_vertically(h.saturating_sub(30));
    lower.draw(&Text::new(
        caption.to_string(),
        (12, 6),
        (FAMILY, 15).into_font().color(&BLACK.mix(0.75)),
    ))?;
    Ok(upper)
}

fn top(values: impl Iterator<Item = f64>) -> f64 {
    let m = values.filter(|v| v.is_finite()).fold(0.0, f64::max);
    if m > 0.0 {
        m * 1.18
    } else {
        1.0
    }
}

/// Matplotlib's "tab10" colours: distinct and readable on white.
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

fn pick(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

const E2E: RGBColor = RGBColor(31, 119, 180);
const SIGONLY: RGBColor = RGBColor(255, 127, 14);
const OK: RGBColor = RGBColor(44, 160, 44);
const BAD: RGBColor = RGBColor(214, 39, 40);

fn draw_throughput<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &BenchPlots,
    title: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let area = with_caption(root, &d.caption)?;
    let labels: Vec<String> = d.points.iter().map(|p| p.label.clone()).collect();
    let ymax = top(d
        .points
        .iter()
        .flat_map(|p| std::iter::once(p.tps).chain(p.sigverify_only_tps)));
    let mut chart = category_chart(
        &area,
        title,
        &labels,
        ymax,
        &d.param,
        "throughput (transactions/s)",
        0,
    )?;
    let xy = |i: usize, v: f64| (i as f64, v);
    chart
        .draw_series(LineSeries::new(
            d.points.iter().enumerate().map(|(i, p)| xy(i, p.tps)),
            E2E.stroke_width(3),
        ))?
        .label("end to end")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], E2E.stroke_width(3)));
    chart.draw_series(
        d.points
            .iter()
            .enumerate()
            .map(|(i, p)| Circle::new(xy(i, p.tps), 5, E2E.filled())),
    )?;
    let sig: Vec<(f64, f64)> = d
        .points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.sigverify_only_tps.map(|s| xy(i, s)))
        .collect();
    if !sig.is_empty() {
        chart
            .draw_series(LineSeries::new(
                sig.iter().copied(),
                SIGONLY.stroke_width(3),
            ))?
            .label("signature verification only")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], SIGONLY.stroke_width(3)));
        chart.draw_series(
            sig.iter()
                .map(|&(x, y)| TriangleMarker::new((x, y), 6, SIGONLY.filled())),
        )?;
        chart.draw_series(sig.iter().map(|&(x, y)| {
            EmptyElement::at((x, y))
                + Text::new(
                    format!("{y:.0} tx/s"),
                    (10, -22),
                    (FAMILY, 14).into_font().color(&SIGONLY),
                )
        }))?;
    }
    // the measured numbers, beside each end-to-end point
    chart.draw_series(d.points.iter().enumerate().map(|(i, p)| {
        EmptyElement::at(xy(i, p.tps))
            + Text::new(
                format!("{:.0} tx/s", p.tps),
                (12, 8),
                (FAMILY, 14).into_font().color(&E2E),
            )
    }))?;
    // the reference check: a ring around the point, green when the results matched
    let checked: Vec<(f64, f64, bool)> = d
        .points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.reference_match.map(|m| (i as f64, p.tps, m)))
        .collect();
    for (want, label, color) in [
        (true, "reference match", OK),
        (false, "reference MISMATCH", BAD),
    ] {
        let pts: Vec<(f64, f64)> = checked
            .iter()
            .filter(|c| c.2 == want)
            .map(|c| (c.0, c.1))
            .collect();
        if pts.is_empty() {
            continue;
        }
        chart
            .draw_series(
                pts.iter()
                    .map(|&p| Circle::new(p, 10, color.stroke_width(3))),
            )?
            .label(label)
            .legend(move |(x, y)| Circle::new((x + 10, y), 6, color.stroke_width(3)));
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)
}

/// A chart of one category per label along x (a run, a swept value, a quantile) and
/// `0..ymax` along y, its mesh and axis descriptions drawn; y labels with `decimals`.
fn category_chart<'a, DB>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    labels: &[String],
    ymax: f64,
    x_desc: &str,
    y_desc: &str,
    decimals: usize,
) -> Result<
    ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    Box<dyn std::error::Error + Send + Sync>,
>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let n = labels.len();
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FAMILY, 24))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..ymax)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .max_light_lines(2)
        .x_labels(n.max(2))
        .x_label_formatter(&|x| category_label(labels, *x))
        .y_label_formatter(&|y| format!("{y:.decimals$}"))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 17))
        .draw()?;
    Ok(chart)
}

/// The legend box, as every plot draws it.
fn legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, at: SeriesLabelPosition) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(at)
        .label_font((FAMILY, 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}

/// A run's legend entry on the latency plots: its p50 and p99 (and the swept value).
fn quantile_label(d: &BenchPlots, p: &Point) -> String {
    let [p50, _, p99, _, _] = p.latency_ms;
    if d.points.len() == 1 {
        format!("p50 {p50:.1} ms, p99 {p99:.1} ms")
    } else {
        format!(
            "{} = {}: p50 {p50:.1} ms, p99 {p99:.1} ms",
            d.param, p.label
        )
    }
}

fn draw_latency<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &BenchPlots,
    title: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let area = with_caption(root, &d.caption)?;
    let labels: Vec<String> = QUANTILES.iter().map(|q| q.to_string()).collect();
    let ymax = top(d.points.iter().flat_map(|p| p.latency_ms));
    let mut chart = category_chart(&area, title, &labels, ymax, "quantile", "latency (ms)", 1)?;
    for (k, p) in d.points.iter().enumerate() {
        let color = pick(k);
        let pts: Vec<(f64, f64)> = p
            .latency_ms
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as f64, v))
            .collect();
        // p50 and p99 written out in the legend (legible however close the runs are)
        let name = quantile_label(d, p);
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(3)))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
        chart.draw_series(pts.iter().map(|&q| Circle::new(q, 4, color.filled())))?;
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)
}

/// Bins of the latency histogram plot.
const HIST_BINS: usize = 40;

/// A run's histogram buckets regrouped into `HIST_BINS` equal bins over `0..xmax` ms, as
/// shares of its transactions (0 to 1).
fn rebin(buckets: &[(f64, u64)], xmax: f64) -> Vec<f64> {
    let total: u64 = buckets.iter().map(|b| b.1).sum();
    let mut bins = vec![0.0; HIST_BINS];
    if total == 0 || xmax <= 0.0 {
        return bins;
    }
    for &(edge, n) in buckets {
        let i = ((edge / xmax * HIST_BINS as f64) as usize).min(HIST_BINS - 1);
        bins[i] += n as f64 / total as f64;
    }
    bins
}

fn draw_histogram<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &BenchPlots,
    title: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let area = with_caption(root, &d.caption)?;
    // up to the largest p99.9 (the max would squash the body of the distribution)
    let xmax = top(d.points.iter().map(|p| p.latency_ms[3]));
    let binned: Vec<Vec<f64>> = d
        .points
        .iter()
        .map(|p| rebin(&p.latency_histogram, xmax))
        .collect();
    let ymax = top(binned.iter().flatten().map(|v| v * 100.0));
    let width = xmax / HIST_BINS as f64;
    let mut chart = ChartBuilder::on(&area)
        .caption(title, (FAMILY, 24))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..xmax, 0f64..ymax)?;
    chart
        .configure_mesh()
        .max_light_lines(2)
        .x_label_formatter(&|x| format!("{x:.1}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_desc("latency (ms), bins up to the largest p99.9")
        .y_desc("transactions (%)")
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 17))
        .draw()?;
    for (k, (p, bins)) in d.points.iter().zip(&binned).enumerate() {
        let color = pick(k);
        let [p50, _, p99, _, _] = p.latency_ms;
        let name = quantile_label(d, p);
        // a step outline per run, so overlapping runs stay readable
        let mut outline = vec![(0.0, 0.0)];
        for (i, v) in bins.iter().enumerate() {
            let (x0, x1) = (i as f64 * width, (i + 1) as f64 * width);
            outline.push((x0, v * 100.0));
            outline.push((x1, v * 100.0));
        }
        outline.push((xmax, 0.0));
        chart
            .draw_series(LineSeries::new(outline, color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        for (q, v) in [(p50, "p50"), (p99, "p99")] {
            if q <= xmax {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(q, 0.0), (q, ymax * 0.95)],
                    color.mix(0.6).stroke_width(1),
                )))?;
                chart.draw_series(std::iter::once(Text::new(
                    v.to_string(),
                    (q, ymax * 0.97),
                    (FAMILY, 13).into_font().color(&color),
                )))?;
            }
        }
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

fn draw_stages<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &BenchPlots,
    title: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let area = with_caption(root, &d.caption)?;
    let n = d.points.len();
    let labels: Vec<String> = d.points.iter().map(|p| p.label.clone()).collect();
    let ymax = top(d
        .points
        .iter()
        .map(|p| p.stages.iter().map(|s| s.1 * 100.0).sum::<f64>()));
    let mut chart = category_chart(
        &area,
        title,
        &labels,
        ymax,
        &d.param,
        "busy share of wall time (%, stacked)",
        0,
    )?;
    let stage_names: Vec<String> = d
        .points
        .first()
        .map(|p| p.stages.iter().map(|s| s.0.clone()).collect())
        .unwrap_or_default();
    let mut bottoms = vec![0.0f64; n];
    for (k, stage) in stage_names.iter().enumerate() {
        let color = pick(k);
        let mut rects = Vec::new();
        let mut texts = Vec::new();
        for (i, p) in d.points.iter().enumerate() {
            let share = p
                .stages
                .iter()
                .find(|s| &s.0 == stage)
                .map(|s| s.1 * 100.0)
                .unwrap_or(0.0);
            let (lo, hi) = (bottoms[i], bottoms[i] + share);
            bottoms[i] = hi;
            let x = i as f64;
            rects.push(Rectangle::new(
                [(x - 0.3, lo), (x + 0.3, hi)],
                color.filled(),
            ));
            if share >= ymax * 0.04 {
                texts.push(
                    EmptyElement::at((x, (lo + hi) / 2.0))
                        + Text::new(
                            format!("{share:.0}%"),
                            (-12, -7),
                            (FAMILY, 13).into_font().color(&BLACK),
                        ),
                );
            }
        }
        chart
            .draw_series(rects)?
            .label(stage.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], color.filled()));
        chart.draw_series(texts)?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

fn draw_speedup<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &ExecPlots,
    title: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let area = with_caption(root, &d.caption)?;
    let n = d.points.len();
    let labels: Vec<String> = d.points.iter().map(|p| p.label.clone()).collect();
    let ymax = top(d.points.iter().map(|p| p.speedup).chain([1.0]));
    let mut chart = category_chart(
        &area,
        title,
        &labels,
        ymax,
        &d.param,
        "speedup (parallel tx/s / sequential tx/s)",
        1,
    )?;
    chart
        .draw_series(LineSeries::new(
            [(-0.5, 1.0), (n as f64 - 0.5, 1.0)],
            BLACK.mix(0.5).stroke_width(1),
        ))?
        .label("no speedup (1.0)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.5)));
    let pts: Vec<(f64, f64)> = d
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| (i as f64, p.speedup))
        .collect();
    chart
        .draw_series(LineSeries::new(pts.iter().copied(), E2E.stroke_width(3)))?
        .label("speedup")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], E2E.stroke_width(3)));
    chart.draw_series(pts.iter().map(|&p| Circle::new(p, 5, E2E.filled())))?;
    chart.draw_series(d.points.iter().zip(&pts).map(|(p, &xy)| {
        EmptyElement::at(xy)
            + Text::new(
                format!(
                    "{:.2}x ({:.0} / {:.0} tx/s)",
                    p.speedup, p.parallel_tps, p.sequential_tps
                ),
                (10, -22),
                (FAMILY, 14).into_font().color(&E2E),
            )
    }))?;
    legend(&mut chart, SeriesLabelPosition::LowerRight)
}
