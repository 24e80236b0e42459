//! Distributions and the small JSON helpers every tool shares.

use serde_json::{json, Value};

/// Nearest-rank percentile of sorted values.
pub fn pct_sorted(v: &[f64], p: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let i = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    Some(v[i.min(v.len() - 1)])
}

/// `{n, p50, p90, p99, max, mean}` of the values.
pub fn dist(mut v: Vec<f64>) -> Value {
    v.sort_by(f64::total_cmp);
    let mean = if v.is_empty() {
        None
    } else {
        Some(r3(v.iter().sum::<f64>() / v.len() as f64))
    };
    let p = |q| pct_sorted(&v, q).map(r3);
    json!({"n": v.len(), "p50": p(50.0), "p90": p(90.0), "p99": p(99.0), "max": p(100.0), "mean": mean})
}

/// Rounded to 3 decimals, for readable JSON.
pub fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `{min, median, max, n}` of the numbers among `vals`, or null when there are none.
pub fn spread(vals: &[Option<f64>]) -> Value {
    let mut v: Vec<f64> = vals
        .iter()
        .flatten()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    if v.is_empty() {
        return Value::Null;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    json!({"min": r3(v[0]), "median": r3(median), "max": r3(v[n - 1]), "n": n})
}

/// The number at a dotted path (`server.cpu_s`), if there is one.
pub fn num(v: &Value, path: &str) -> Option<f64> {
    path.split('.').try_fold(v, |v, k| v.get(k))?.as_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_and_dist() {
        let s = spread(&[Some(3.0), None, Some(1.0), Some(2.0), Some(10.0)]);
        assert_eq!(s, json!({"min": 1.0, "median": 2.5, "max": 10.0, "n": 4}));
        assert_eq!(spread(&[None]), Value::Null);
        let d = dist((1..=100).map(f64::from).collect());
        assert_eq!(num(&d, "p50"), Some(51.0));
        assert_eq!(num(&d, "max"), Some(100.0));
    }
}
