//! Charts drawn on the server as SVG (plotters): no JavaScript, no build
//! step, and the page's CSP needs nothing more. Each chart comes with the
//! table of its numbers, for readers who cannot see it and for tests.

use plotters::{
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};

/// One series of a bar chart: a name, a value per label, a colour.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<f64>,
}

/// Colour-blind-safe palette (Okabe–Ito).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
];

/// Grouped bars: one group per label, one bar per series. `None` when
/// there are no labels or drawing failed (the table still shows).
pub fn bars(title: &str, labels: &[String], series: &[Series], y_desc: &str) -> Option<String> {
    // All zeros is still an answer (nothing declined): draw the axes.
    let top = series.iter().flat_map(|s| s.values.iter().copied()).fold(1.0_f64, f64::max);
    if labels.is_empty() || series.is_empty() {
        return None;
    }
    let mut svg = String::new();
    let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
        let width = (120 + labels.len() * (24 + 14 * series.len())).clamp(360, 900) as u32;
        let root = SVGBackend::with_string(&mut svg, (width, 260)).into_drawing_area();
        root.fill(&WHITE)?;
        let n = labels.len() as f64;
        // Room under the zero line for the group labels, drawn as text at
        // the middle of each group (plotters places axis labels by value).
        let floor = -top * 0.14;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(8)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..n, floor..top * 1.15)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            // Whole numbers only: fractional ticks would print as repeats.
            .y_label_formatter(&|y| if *y < 0.0 || y.fract().abs() > 1e-9 { String::new() } else { format!("{y:.0}") })
            .y_desc(y_desc)
            .draw()?;
        let label_style = ("sans-serif", 12).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center));
        chart.draw_series(
            labels
                .iter()
                .enumerate()
                .map(|(i, l)| Text::new(l.clone(), (i as f64 + 0.5, floor / 2.0), label_style.clone())),
        )?;
        let width = 0.8 / series.len() as f64;
        for (k, s) in series.iter().enumerate() {
            let colour = PALETTE[k % PALETTE.len()];
            chart
                .draw_series(s.values.iter().enumerate().map(|(i, v)| {
                    let x0 = i as f64 + 0.1 + k as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width * 0.9, *v)], colour.filled())
                }))?
                .label(s.name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled()));
        }
        if series.len() > 1 {
            chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
        }
        root.present()?;
        Ok(())
    })()
    .is_ok();
    drawn.then_some(svg)
}
