//! `--key value` command lines, the only kind these tools take.

use std::collections::HashMap;

pub struct Args {
    pub words: Vec<String>,
    opts: HashMap<String, String>,
}

impl Args {
    /// Words before the first `--key` are positional; `--flag` with no value (next word is
    /// another `--key` or absent) reads as "1".
    pub fn parse(v: impl IntoIterator<Item = String>) -> Args {
        let v: Vec<String> = v.into_iter().collect();
        let mut words = Vec::new();
        let mut opts = HashMap::new();
        let mut i = 0;
        while i < v.len() {
            if let Some(k) = v[i].strip_prefix("--") {
                match v.get(i + 1) {
                    Some(val) if !val.starts_with("--") => {
                        opts.insert(k.to_string(), val.clone());
                        i += 2;
                    }
                    _ => {
                        opts.insert(k.to_string(), "1".to_string());
                        i += 1;
                    }
                }
            } else {
                words.push(v[i].clone());
                i += 1;
            }
        }
        Args { words, opts }
    }

    pub fn has(&self, k: &str) -> bool {
        self.opts.contains_key(k)
    }

    pub fn s(&self, k: &str, d: &str) -> String {
        self.opts.get(k).cloned().unwrap_or_else(|| d.to_string())
    }

    pub fn opt(&self, k: &str) -> Option<String> {
        self.opts.get(k).cloned()
    }

    /// A number option; a value that does not parse ends the program with a message.
    pub fn num<T: std::str::FromStr>(&self, k: &str, d: T) -> T {
        match self.opts.get(k) {
            None => d,
            Some(x) => x.parse().unwrap_or_else(|_| {
                eprintln!("--{k}: not a number: {x}");
                std::process::exit(2)
            }),
        }
    }

    /// A comma-separated list of PIDs.
    pub fn pids(&self, k: &str) -> Vec<u32> {
        self.s(k, "")
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_flags_and_values() {
        let a = Args::parse(["run", "--quick", "--n", "5", "--pids", "1,2"].map(String::from));
        assert_eq!(a.words, ["run"]);
        assert!(a.has("quick"));
        assert_eq!(a.num("n", 0usize), 5);
        assert_eq!(a.pids("pids"), [1, 2]);
        assert_eq!(a.s("missing", "d"), "d");
    }
}
