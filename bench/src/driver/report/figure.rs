//! One figure: both sides' min/median/max, ours ÷ C, and its verdict.

use crate::stats::{num, r3};
use serde_json::{json, Value};

/// What a figure is held to.
#[derive(Clone, Copy)]
pub enum Target {
    /// ours ÷ C at most this.
    RatioAtMost(f64),
    /// ours ÷ C at least this.
    RatioAtLeast(f64),
    /// ours at most this, in the figure's unit.
    OursAtMost(f64),
    /// No target in the issue; lower is better.
    Lower,
}

pub struct Figure {
    pub id: String,
    pub section: String,
    pub title: String,
    pub unit: &'static str,
    pub c: Value,
    pub ours: Value,
    pub target: Target,
    /// Said after the verdict: where a value is only a bound.
    pub note: String,
    /// A verdict worked out by the caller (p99 at every N, churn growth, the floor).
    pub verdict: Option<(Option<bool>, String)>,
    /// The trivial writer's figure, where there is one, and with its writes coalesced.
    pub floor: Value,
    pub coalesced: Value,
}

pub fn median(v: &Value) -> Option<f64> {
    num(v, "median")
}

impl Figure {
    pub fn new(
        section: &str,
        id: &str,
        title: &str,
        unit: &'static str,
        c: Value,
        ours: Value,
        target: Target,
    ) -> Figure {
        Figure {
            id: id.into(),
            section: section.into(),
            title: title.into(),
            unit,
            c,
            ours,
            target,
            note: String::new(),
            verdict: None,
            floor: Value::Null,
            coalesced: Value::Null,
        }
    }

    pub fn ratio(&self) -> Option<f64> {
        let (c, o) = (median(&self.c)?, median(&self.ours)?);
        (c > 0.0).then(|| o / c)
    }

    /// (target met?, verdict line).
    pub fn verdict(&self) -> (Option<bool>, String) {
        if let Some(v) = &self.verdict {
            return v.clone();
        }
        let u = self.unit;
        match (self.target, self.ratio(), median(&self.ours)) {
            (Target::RatioAtMost(t), Some(r), _) if r <= t => {
                (Some(true), format!("met (target ours ÷ C ≤ {t:.2})"))
            }
            (Target::RatioAtMost(t), Some(r), _) => (
                Some(false),
                format!(
                    "MISSED: target ≤ {t:.2}, {:.0}% over",
                    100.0 * (r / t - 1.0)
                ),
            ),
            (Target::RatioAtLeast(t), Some(r), _) if r >= t => {
                (Some(true), format!("met (target ours ÷ C ≥ {t:.2})"))
            }
            (Target::RatioAtLeast(t), Some(r), _) => (
                Some(false),
                format!(
                    "MISSED: target ≥ {t:.2}, {:.0}% short",
                    100.0 * (1.0 - r / t)
                ),
            ),
            (Target::OursAtMost(t), _, Some(o)) if o <= t => {
                (Some(true), format!("met (target ours ≤ {t} {u})"))
            }
            (Target::OursAtMost(t), _, Some(o)) => (
                Some(false),
                format!(
                    "MISSED: target ours ≤ {t} {u}, {:.0}% over",
                    100.0 * (o / t - 1.0)
                ),
            ),
            (Target::Lower, Some(r), _) => (
                None,
                format!("{} (no target; lower is better)", better_worse(r)),
            ),
            _ => (None, "no comparison: a side has no value".into()),
        }
    }

    pub fn to_json(&self) -> Value {
        let (met, verdict) = self.verdict();
        json!({
            "id": self.id, "section": self.section, "title": self.title, "unit": self.unit,
            "c": self.c, "ours": self.ours, "ratio": self.ratio().map(r3),
            "met": met, "verdict": verdict, "note": self.note, "floor": self.floor, "floor_coalesced": self.coalesced,
        })
    }
}

fn better_worse(r: f64) -> &'static str {
    if (r - 1.0).abs() < 0.05 {
        "same (±5%)"
    } else if r < 1.0 {
        "ours better"
    } else {
        "ours worse"
    }
}

/// A number with as many decimals as its size deserves.
pub fn fmt(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 || a == 0.0 || (x.fract() == 0.0 && a < 1e9) {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// "median [min–max]".
pub fn cell(v: &Value) -> String {
    let (Some(m), Some(lo), Some(hi)) = (num(v, "median"), num(v, "min"), num(v, "max")) else {
        return "-".into();
    };
    if fmt(lo) == fmt(hi) {
        fmt(m)
    } else {
        format!("{} [{}–{}]", fmt(m), fmt(lo), fmt(hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(x: f64) -> Value {
        json!({"min": x, "median": x, "max": x, "n": 1})
    }

    #[test]
    fn verdicts() {
        let f = |c, o, t| Figure::new("s", "id", "t", "ms", one(c), one(o), t).verdict();
        assert_eq!(
            f(2.0, 0.8, Target::RatioAtMost(0.5)),
            (Some(true), "met (target ours ÷ C ≤ 0.50)".into())
        );
        assert_eq!(
            f(1.0, 0.8, Target::RatioAtMost(0.5)).1,
            "MISSED: target ≤ 0.50, 60% over"
        );
        assert_eq!(
            f(100.0, 120.0, Target::RatioAtLeast(1.5)).1,
            "MISSED: target ≥ 1.50, 20% short"
        );
        assert_eq!(f(1000.0, 3.0, Target::OursAtMost(100.0)).0, Some(true));
        assert_eq!(
            f(1.0, 1.02, Target::Lower).1,
            "same (±5%) (no target; lower is better)"
        );
        assert_eq!(
            cell(&json!({"min": 1.0, "median": 2.5, "max": 10.0, "n": 3})),
            "2.50 [1–10]"
        );
    }
}
