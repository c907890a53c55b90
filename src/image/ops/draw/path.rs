//! SVG path data (`d` attribute) to a tiny-skia [`Path`].
//!
//! Owns: the translation of parsed segments into path-builder calls and the error messages for
//! malformed data. The parsing itself is `svgtypes` (the resvg project's parser): its
//! `SimplifyingPathParser` already resolves relative commands, H/V, the smooth S/T forms and
//! implicit move-tos, and turns arcs into cubic Béziers, so nothing here re-implements the grammar.
//! Unlike an SVG renderer, which draws up to the first error, kiln rejects malformed data with
//! the character position, so a typo in a script does not silently truncate the shape.

use svgtypes::{SimplePathSegment, SimplifyingPathParser};
use tiny_skia::{Path, PathBuilder};

use crate::error::{Error, Result};

/// Parses path data. `Ok(None)` when the path encloses nothing drawable (only move-tos).
pub fn parse(data: &str) -> Result<Option<Path>> {
    let op = "draw_path";
    if data.trim().is_empty() {
        return Err(Error::param(op, "path data is empty (expected commands such as \"M10 10 L90 90\")"));
    }
    let mut pb = PathBuilder::new();
    for seg in SimplifyingPathParser::from(data) {
        let seg = seg.map_err(|e| Error::param(op, format!("malformed path data \"{}\": {e}", short(data))))?;
        let finite = |vs: &[f64]| vs.iter().all(|v| v.is_finite() && v.abs() < 1e9);
        let ok = match seg {
            SimplePathSegment::MoveTo { x, y } => finite(&[x, y]).then(|| pb.move_to(x as f32, y as f32)),
            SimplePathSegment::LineTo { x, y } => finite(&[x, y]).then(|| pb.line_to(x as f32, y as f32)),
            SimplePathSegment::CurveTo { x1, y1, x2, y2, x, y } => finite(&[x1, y1, x2, y2, x, y])
                .then(|| pb.cubic_to(x1 as f32, y1 as f32, x2 as f32, y2 as f32, x as f32, y as f32)),
            SimplePathSegment::Quadratic { x1, y1, x, y } => {
                finite(&[x1, y1, x, y]).then(|| pb.quad_to(x1 as f32, y1 as f32, x as f32, y as f32))
            }
            SimplePathSegment::ClosePath => {
                pb.close();
                Some(())
            }
        };
        if ok.is_none() {
            return Err(Error::param(
                op,
                format!("path data \"{}\" has a coordinate that is not a finite number below 1e9", short(data)),
            ));
        }
    }
    Ok(pb.finish())
}

fn short(data: &str) -> String {
    if data.chars().count() > 40 {
        format!("{}...", data.chars().take(40).collect::<String>())
    } else {
        data.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(d: &str) -> [f32; 4] {
        let b = parse(d).unwrap().unwrap().bounds();
        [b.left(), b.top(), b.right(), b.bottom()]
    }

    #[test]
    fn absolute_and_relative_commands_agree() {
        assert_eq!(bounds("M10 10 H 90 V 90 H 10 Z"), [10.0, 10.0, 90.0, 90.0]);
        assert_eq!(bounds("m10 10 h80 v80 h-80 z"), [10.0, 10.0, 90.0, 90.0]);
        assert_eq!(bounds("M10,10 L90,10 90,90 10,90z"), [10.0, 10.0, 90.0, 90.0]);
        // Curves: control points bound the path; the smooth forms reflect them.
        assert_eq!(bounds("M0 0 C 0 50 100 50 100 0 S 200 -50 200 0"), [0.0, -50.0, 200.0, 50.0]);
        assert_eq!(bounds("M0 0 Q 50 80 100 0 T 200 0"), [0.0, -80.0, 200.0, 80.0]);
        // A half-circle arc of radius 50 from (0,50) to (100,50) through (50,0).
        let b = bounds("M0 50 A 50 50 0 0 1 100 50 Z");
        assert!((b[1] - 0.0).abs() < 1.0 && (b[2] - 100.0).abs() < 1e-3, "{b:?}");
        let r = bounds("M0 50 a 50 50 0 0 1 100 0 z");
        assert_eq!(b, r);
    }

    #[test]
    fn malformed_data_is_an_error_with_the_reason() {
        for bad in ["M 10 10 L 20", "M10 10 X 5 5", "L 10 10", "M 10 10 L 1e999 5", "hello", "   "] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("draw_path:"), "{bad}: {e}");
        }
        // Only a move-to: nothing to draw, not an error.
        assert!(parse("M 10 10").unwrap().is_none());
    }
}
