//! A small SVG chart of speedup over thread count (`bench gigagas --plot`).

use std::fmt::Write;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 400.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

/// Escapes text for an SVG text node.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Speedup over sequential for each measured thread count, with the ideal
/// (linear) speedup and the sequential baseline (1.0) for reference. The
/// thread axis is logarithmic (1, 2, 4, … are evenly spaced).
pub(crate) fn speedup_svg(title: &str, points: &[(usize, f64)]) -> String {
    let mut points: Vec<(usize, f64)> =
        points.iter().copied().filter(|(t, s)| *t > 0 && s.is_finite()).collect();
    points.sort_by_key(|(t, _)| *t);
    let max_threads = points.iter().map(|(t, _)| *t).max().unwrap_or(1).max(2);
    let max_speedup = points.iter().map(|(_, s)| *s).fold(max_threads as f64, f64::max).ceil();
    let log_max = (max_threads as f64).log2();
    let x = |threads: f64| LEFT + (WIDTH - LEFT - RIGHT) * threads.log2() / log_max;
    let y = |speedup: f64| HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * speedup / max_speedup;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    // Axes with ticks: thread counts at powers of two, speedup at integers.
    let (x0, y0) = (LEFT, HEIGHT - BOTTOM);
    let _ = writeln!(
        svg,
        r#"<path d="M{x0},{TOP} L{x0},{y0} L{},{y0}" stroke="black" fill="none"/>"#,
        WIDTH - RIGHT
    );
    let mut tick = 1usize;
    while tick <= max_threads {
        let tx = x(tick as f64);
        let _ = writeln!(svg, r#"<line x1="{tx}" y1="{y0}" x2="{tx}" y2="{}" stroke="black"/>"#, y0 + 5.0);
        let _ = writeln!(svg, r#"<text x="{tx}" y="{}" text-anchor="middle">{tick}</text>"#, y0 + 20.0);
        tick *= 2;
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">threads</text>"#,
        (LEFT + WIDTH - RIGHT) / 2.0,
        HEIGHT - 10.0
    );
    let step = (max_speedup / 8.0).ceil().max(1.0);
    let mut s = 0.0;
    while s <= max_speedup {
        let ty = y(s);
        let _ = writeln!(svg, r##"<line x1="{}" y1="{ty}" x2="{x0}" y2="{ty}" stroke="black"/>"##, x0 - 5.0);
        let _ = writeln!(
            svg,
            r##"<line x1="{x0}" y1="{ty}" x2="{}" y2="{ty}" stroke="#e0e0e0"/>"##,
            WIDTH - RIGHT
        );
        let _ = writeln!(svg, r#"<text x="{}" y="{}" text-anchor="end">{s}x</text>"#, x0 - 8.0, ty + 4.0);
        s += step;
    }
    let _ = writeln!(
        svg,
        r#"<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">speedup over sequential</text>"#,
        (TOP + y0) / 2.0,
        (TOP + y0) / 2.0
    );
    // Ideal speedup and the sequential baseline.
    let ideal_end = max_threads.min(max_speedup as usize) as f64;
    let _ = writeln!(
        svg,
        r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999" stroke-dasharray="6 4"/>"##,
        x(1.0),
        y(1.0),
        x(ideal_end),
        y(ideal_end)
    );
    let _ = writeln!(
        svg,
        r##"<line x1="{x0}" y1="{}" x2="{}" y2="{}" stroke="#c33" stroke-dasharray="2 3"/>"##,
        y(1.0),
        WIDTH - RIGHT,
        y(1.0)
    );
    // The measured curve.
    let path: Vec<String> = points.iter().map(|(t, s)| format!("{:.1},{:.1}", x(*t as f64), y(*s))).collect();
    if !path.is_empty() {
        let _ = writeln!(
            svg,
            r##"<polyline points="{}" stroke="#1f6fb2" stroke-width="2" fill="none"/>"##,
            path.join(" ")
        );
    }
    for (t, s) in &points {
        let (px, py) = (x(*t as f64), y(*s));
        let _ = writeln!(svg, r##"<circle cx="{px:.1}" cy="{py:.1}" r="4" fill="#1f6fb2"/>"##);
        let _ =
            writeln!(svg, r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{s:.2}x</text>"#, px, py - 10.0);
    }
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="{}" fill="#666">dashed: ideal; dotted: sequential</text>"##,
        LEFT + 10.0,
        TOP + 12.0
    );
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_has_a_point_and_label_per_thread_count() {
        let svg = speedup_svg("raw <nproc 2>", &[(2, 1.41), (1, 0.93)]);
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains(">1.41x<") && svg.contains(">0.93x<"));
        assert!(svg.contains("raw &lt;nproc 2&gt;"));
        // Points are drawn left to right by thread count.
        let polyline = svg.lines().find(|l| l.starts_with("<polyline")).expect("curve");
        let xs: Vec<f64> = polyline
            .split('"')
            .nth(1)
            .expect("points")
            .split(' ')
            .map(|p| p.split(',').next().expect("x").parse().expect("number"))
            .collect();
        assert!(xs.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn empty_input_still_makes_a_chart() {
        let svg = speedup_svg("nothing", &[]);
        assert!(svg.contains("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 0);
    }
}
