//! "Did you mean …?" for names a user mistyped: option keys, functions, `--set` names, palettes.
//!
//! Owns the one distance measure and the one threshold every front end uses, so a typo is
//! answered the same way wherever it is made. Must not know where the candidates come from.

/// The candidate closest to `word` by edit distance (Damerau: a swap of two neighbouring letters
/// counts as one edit), if it is close enough to be a plausible typo: at most one edit for
/// words of up to four letters, two up to eight, three beyond. Ties go to the first candidate.
pub fn closest<'a, I, S>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a S>,
    S: AsRef<str> + 'a + ?Sized,
{
    let limit = match word.chars().count() {
        0..=4 => 1,
        5..=8 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let c = c.as_ref();
        if c == word {
            continue;
        }
        let d = distance(&word.to_lowercase(), &c.to_lowercase());
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// `" (did you mean 'x'?)"`, or nothing when no candidate is close.
pub fn did_you_mean<'a, I, S>(word: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a S>,
    S: AsRef<str> + 'a + ?Sized,
{
    closest(word, candidates).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default()
}

/// Optimal-string-alignment distance between two words.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_match_hand_counts() {
        assert_eq!(distance("perlin", "perlin"), 0);
        assert_eq!(distance("perlln", "perlin"), 1);
        assert_eq!(distance("radus", "radius"), 1);
        assert_eq!(distance("ab", "ba"), 1, "a swap is one edit");
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggests_only_plausible_typos() {
        let names = ["perlin", "simplex", "worley", "value_noise"];
        assert_eq!(closest("perlln", &names).as_deref(), Some("perlin"));
        assert_eq!(closest("wroley", &names).as_deref(), Some("worley"));
        assert_eq!(closest("banana", &names), None);
        assert_eq!(closest("Perlin", &names).as_deref(), Some("perlin"), "case differences are typos too");
        assert_eq!(did_you_mean("gapp", &["gap", "bevel"]), " (did you mean 'gap'?)");
        assert_eq!(did_you_mean("zzz", &["gap", "bevel"]), "");
    }
}
