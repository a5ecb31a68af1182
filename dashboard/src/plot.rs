//! Line plots of a competition's history as SVG, drawn by `plotters`: one
//! line per uid, labelled by uid only (no miner-controlled text reaches a
//! plot; plotters escapes text besides).

use plotters::prelude::*;

use crate::api::Series;

/// Plot size in pixels.
const SIZE: (u32, u32) = (760, 300);
/// Lines drawn at most (the first series: the best models).
pub const MAX_LINES: usize = 12;

/// Draws `series` as an SVG document titled `title`, the y axis labelled
/// `y_label`; a plot with no points says so.
pub fn lines(title: &str, y_label: &str, series: &[Series]) -> String {
    let series = &series[..series.len().min(MAX_LINES)];
    let mut svg = String::new();
    if let Err(e) = draw(&mut svg, title, y_label, series) {
        tracing::warn!(error = %e, title, "plot failed");
        svg.clear();
        let _ = draw_message(&mut svg, title, "the plot could not be drawn");
    }
    svg
}

fn bounds(series: &[Series]) -> Option<((u64, u64), (f64, f64))> {
    let points = series.iter().flat_map(|s| &s.points);
    let (mut x0, mut x1, mut y0, mut y1) = (u64::MAX, 0, f64::INFINITY, f64::NEG_INFINITY);
    let mut any = false;
    for p in points.filter(|p| p.value.is_finite()) {
        any = true;
        x0 = x0.min(p.block);
        x1 = x1.max(p.block);
        y0 = y0.min(p.value);
        y1 = y1.max(p.value);
    }
    if !any {
        return None;
    }
    if x1 == x0 {
        x0 = x0.saturating_sub(1);
        x1 = x1.saturating_add(1);
    }
    let pad = if y1 > y0 {
        (y1 - y0) * 0.08
    } else {
        y0.abs().max(1.0) * 0.1
    };
    Some(((x0, x1), (y0 - pad, y1 + pad)))
}

fn draw(
    svg: &mut String,
    title: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), Box<dyn std::error::Error>> {
    let Some(((x0, x1), (y0, y1))) = bounds(series) else {
        return draw_message(svg, title, "no data yet");
    };
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc("block")
        .y_desc(y_label)
        .x_labels(6)
        .y_labels(6)
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let points: Vec<(u64, f64)> = s
            .points
            .iter()
            .filter(|p| p.value.is_finite())
            .map(|p| (p.block, p.value))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(format!("uid {}", s.uid))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()?;
    Ok(())
}

fn draw_message(
    svg: &mut String,
    title: &str,
    message: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 18))?;
    root.draw(&Text::new(
        message.to_string(),
        (SIZE.0 as i32 / 2 - 50, SIZE.1 as i32 / 2 - 20),
        ("sans-serif", 16),
    ))?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Point;

    #[test]
    fn a_plot_has_one_line_per_uid_and_an_empty_one_says_so() {
        let series = vec![
            Series {
                uid: 3,
                points: vec![
                    Point {
                        block: 100,
                        value: 1.0,
                    },
                    Point {
                        block: 200,
                        value: 0.5,
                    },
                ],
            },
            Series {
                uid: 7,
                points: vec![Point {
                    block: 200,
                    value: f64::INFINITY,
                }],
            },
        ];
        let svg = lines("score <by> round", "loss", &series);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("uid 3") && svg.contains("uid 7"));
        assert!(svg.contains("score &lt;by&gt; round"), "titles are escaped");
        assert!(svg.contains("<polyline") || svg.contains("<path"));
        let empty = lines("weights", "weight", &[]);
        assert!(empty.contains("no data yet"));
    }
}
