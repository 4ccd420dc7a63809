//! Statistics over repeated runs: median and geometric mean.

/// The median of `xs` (mean of the two middle values for an even count);
/// `None` when empty.
pub fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// The geometric mean of the positive values of `xs`; `None` when there
/// are none.
pub fn geomean(xs: &[f64]) -> Option<f64> {
    let pos: Vec<f64> = xs.iter().copied().filter(|x| *x > 0.0).collect();
    if pos.is_empty() {
        return None;
    }
    Some((pos.iter().map(|x| x.ln()).sum::<f64>() / pos.len() as f64).exp())
}

/// How many times faster the run taking `fast` is than the one taking
/// `slow` (`slow / fast`); `None` unless both are known and positive.
pub fn speedup(slow: Option<f64>, fast: Option<f64>) -> Option<f64> {
    match (slow, fast) {
        (Some(s), Some(f)) if s > 0.0 && f > 0.0 => Some(s / f),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn geomean_of_ratios() {
        let g = geomean(&[2.0, 8.0]).unwrap();
        assert!((g - 4.0).abs() < 1e-12);
        assert_eq!(geomean(&[0.0, -1.0]), None);
        assert!((geomean(&[5.0]).unwrap() - 5.0).abs() < 1e-12);
    }

    #[test]
    fn speedup_needs_both() {
        assert_eq!(speedup(Some(4.0), Some(2.0)), Some(2.0));
        assert_eq!(speedup(None, Some(2.0)), None);
        assert_eq!(speedup(Some(1.0), Some(0.0)), None);
    }
}
