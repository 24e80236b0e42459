//! What to start for one command line: the program, each argument substituted on its own
//! (one config word is one argument, whatever a variable holds), and where the child's
//! standard descriptors go. Without redirections all three are /dev/null, as in
//! nginx-rtmp; redirections apply left to right like a shell's.

use crate::config::exec::substitute;
use crate::config::exec::{ExecCommand, RedirectTo};

/// A file a redirection opens; descriptors redirected to each other share it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Write { path: String, append: bool },
    Read { path: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub program: String,
    pub args: Vec<String>,
    /// Files to open, each once.
    pub targets: Vec<Target>,
    /// stdin, stdout, stderr: an index into `targets`, or None for /dev/null.
    pub stdio: [Option<usize>; 3],
}

/// A variable's value by name (None: the command has no such variable).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Builds the launch of `cmd`. `vars` expands variables; None passes the words exactly as
/// written (nginx-rtmp does not evaluate `exec_static` commands at all).
pub fn plan(cmd: &ExecCommand, vars: Option<Lookup>) -> Launch {
    let expand = |w: &str| match vars {
        Some(v) => substitute(w, v),
        None => w.to_string(),
    };
    // In a file name a value stays one path component: `$args` is the client's text and
    // may hold `/` or be `..` (stream names cannot).
    let in_path = |v: &str| {
        vars.and_then(|f| f(v)).map(|x| match x.as_str() {
            "." | ".." => "_".to_string(),
            _ => x.replace('/', "_"),
        })
    };
    let expand_path = |w: &str| match vars {
        Some(_) => substitute(w, &in_path),
        None => w.to_string(),
    };
    let mut launch = Launch {
        program: cmd.program.clone(),
        args: cmd.args.iter().map(|a| expand(a)).collect(),
        targets: Vec::new(),
        stdio: [None; 3],
    };
    for r in &cmd.redirects {
        let fd = usize::from(r.fd).min(2);
        launch.stdio[fd] = match &r.to {
            RedirectTo::Fd(from) => launch.stdio[usize::from(*from).min(2)],
            RedirectTo::Write { path, append } => {
                launch.targets.push(Target::Write {
                    path: expand_path(path),
                    append: *append,
                });
                Some(launch.targets.len() - 1)
            }
            RedirectTo::Read { path } => {
                launch.targets.push(Target::Read {
                    path: expand_path(path),
                });
                Some(launch.targets.len() - 1)
            }
        };
    }
    launch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::exec::split_command;

    fn vars(n: &str) -> Option<String> {
        match n {
            "name" => Some("x;rm -rf ~ $(id) `id` > /tmp/p".into()),
            "app" => Some("live".into()),
            _ => None,
        }
    }

    #[test]
    fn one_word_one_argument() {
        let cmd = split_command(
            "exec_push",
            &[
                "ffmpeg",
                "-i",
                "rtmp://127.0.0.1/$app/$name",
                "-f",
                "flv",
                "$name",
            ],
            false,
        )
        .unwrap();
        let l = plan(&cmd, Some(&vars));
        assert_eq!(l.program, "ffmpeg");
        assert_eq!(
            l.args,
            vec![
                "-i",
                "rtmp://127.0.0.1/live/x;rm -rf ~ $(id) `id` > /tmp/p",
                "-f",
                "flv",
                "x;rm -rf ~ $(id) `id` > /tmp/p",
            ]
        );
        // A value that looks like a redirection is still an argument.
        assert!(l.targets.is_empty());
        assert_eq!(l.stdio, [None; 3]);
    }

    #[test]
    fn static_words_are_literal() {
        let cmd = split_command("exec_static", &["p", "$name", "a\\b"], false).unwrap();
        assert_eq!(plan(&cmd, None).args, vec!["$name", "a\\b"]);
    }

    #[test]
    fn redirections_like_a_shell() {
        let cmd =
            split_command("exec", &["p", ">/log/$app-$name.out", "2>&1", "<in"], false).unwrap();
        let short = |n: &str| (n == "name").then(|| "s".to_string()).or(vars(n));
        let l = plan(&cmd, Some(&short));
        assert_eq!(
            l.targets,
            vec![
                Target::Write {
                    path: "/log/live-s.out".into(),
                    append: false
                },
                Target::Read { path: "in".into() },
            ]
        );
        assert_eq!(l.stdio, [Some(1), Some(0), Some(0)]);
        // Order matters: stderr takes stdout as it was (null), then stdout moves.
        // A value cannot move the file elsewhere.
        let cmd = split_command("exec", &["p", ">/log/$args-$name", "</in/$args"], false).unwrap();
        let sneaky = |n: &str| match n {
            "args" => Some("../../etc/x".to_string()),
            "name" => Some("..".to_string()),
            _ => None,
        };
        let l = plan(&cmd, Some(&sneaky));
        assert_eq!(
            l.targets,
            vec![
                Target::Write {
                    path: "/log/.._.._etc_x-_".into(),
                    append: false
                },
                Target::Read {
                    path: "/in/.._.._etc_x".into()
                },
            ]
        );
        let cmd = split_command("exec", &["p", "2>&1", ">>o"], false).unwrap();
        let l = plan(&cmd, None);
        assert_eq!(l.stdio, [None, Some(0), None]);
        assert_eq!(
            l.targets,
            vec![Target::Write {
                path: "o".into(),
                append: true
            }]
        );
    }
}
