//! `exec_*` command lines: split at config time, substituted per argument at run time.
//! No shell is ever involved, so a variable's value cannot inject words or redirections.

use super::error::ConfError;

/// What an `exec*` directive is for; it decides when the command runs, which variables it
/// sees and whether it is supervised (killed with its stream, respawned when it exits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecKind {
    /// `exec`, `exec_push`: while a stream is published.
    Push,
    /// `exec_pull`: while a stream is played and nobody publishes it.
    Pull,
    Publish,
    PublishDone,
    Play,
    PlayDone,
    RecordDone,
    /// `exec_static`: for the life of the worker.
    Static,
}

impl ExecKind {
    /// The kinds kept per application, in the order of their lists.
    pub const LISTED: [ExecKind; 7] = [
        ExecKind::Push,
        ExecKind::Pull,
        ExecKind::Publish,
        ExecKind::PublishDone,
        ExecKind::Play,
        ExecKind::PlayDone,
        ExecKind::RecordDone,
    ];

    pub fn from_directive(name: &str) -> Option<ExecKind> {
        Some(match name {
            "exec" | "exec_push" => ExecKind::Push,
            "exec_pull" => ExecKind::Pull,
            "exec_publish" => ExecKind::Publish,
            "exec_publish_done" => ExecKind::PublishDone,
            "exec_play" => ExecKind::Play,
            "exec_play_done" => ExecKind::PlayDone,
            "exec_record_done" => ExecKind::RecordDone,
            "exec_static" => ExecKind::Static,
            _ => return None,
        })
    }

    /// Supervised commands run until told to stop and are respawned when they exit; the
    /// others are one-shot notifications that run to their end on their own.
    pub fn managed(self) -> bool {
        matches!(self, ExecKind::Push | ExecKind::Pull | ExecKind::Static)
    }

    /// The index of this kind's list in an application's conf (None for `exec_static`,
    /// which is kept per level and not inherited).
    pub fn index(self) -> Option<usize> {
        Self::LISTED.iter().position(|k| *k == self)
    }

    pub fn directive(self) -> &'static str {
        match self {
            ExecKind::Push => "exec_push",
            ExecKind::Pull => "exec_pull",
            ExecKind::Publish => "exec_publish",
            ExecKind::PublishDone => "exec_publish_done",
            ExecKind::Play => "exec_play",
            ExecKind::PlayDone => "exec_play_done",
            ExecKind::RecordDone => "exec_record_done",
            ExecKind::Static => "exec_static",
        }
    }
}

/// Where a redirection points: a file (a template, substituted at run time) or another of
/// the child's standard descriptors as it is at that point (`2>&1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectTo {
    Write { path: String, append: bool },
    Read { path: String },
    Fd(u8),
}

/// `>file`, `2>>file`, `<file`, `2>&1`: nginx-rtmp applies these to the child's standard
/// descriptors instead of passing them as arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub fd: u8,
    pub to: RedirectTo,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCommand {
    pub program: String,
    /// Argument templates, `$name` and the like unexpanded.
    pub args: Vec<String>,
    /// Redirections, in config order.
    pub redirects: Vec<Redirect>,
    /// `name=NAME` words under `exec_options on`: the command runs only for these streams.
    pub names: Vec<String>,
}

impl ExecCommand {
    /// Whether the command runs for stream `name` (`exec_options on` filters).
    pub fn applies_to(&self, name: &str) -> bool {
        self.names.is_empty() || self.names.iter().any(|n| n == name)
    }
}

/// The directive's arguments are already words (nginx's tokenizer handled quotes), so the
/// first is the program and the rest its arguments. Words that are redirections in the
/// config text (`2>>/var/log/ffmpeg.log`) become redirections; a variable's value never
/// does, so a stream named `>x` is an argument like any other. With `name_filters`
/// (`exec_options on`) a `name=NAME` word restricts the command to that stream.
pub fn split_command(
    directive: &str,
    args: &[&str],
    name_filters: bool,
) -> Result<ExecCommand, ConfError> {
    let Some((&program, rest)) = args.split_first() else {
        return Err(ConfError::new(format!(
            "invalid number of arguments in \"{directive}\" directive"
        )));
    };
    let mut cmd = ExecCommand {
        program: program.to_string(),
        args: Vec::new(),
        redirects: Vec::new(),
        names: Vec::new(),
    };
    for &a in rest {
        if name_filters {
            if let Some(n) = a.strip_prefix("name=") {
                cmd.names.push(n.to_string());
                continue;
            }
        }
        match redirect(a) {
            Some(Ok(r)) => cmd.redirects.push(r),
            Some(Err(why)) => {
                return Err(ConfError::new(format!(
                    "invalid redirection \"{a}\" in \"{directive}\" directive: {why}"
                )))
            }
            None => cmd.args.push(a.to_string()),
        }
    }
    Ok(cmd)
}

/// None when the word is an ordinary argument (it does not start with digits and then
/// `>` or `<`, as nginx-rtmp's `ngx_rtmp_eval_streams` reads it).
fn redirect(word: &str) -> Option<Result<Redirect, &'static str>> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &word[digits..];
    let (out, rest) = if let Some(r) = rest.strip_prefix('>') {
        (true, r)
    } else if let Some(r) = rest.strip_prefix('<') {
        (false, r)
    } else {
        return None;
    };
    Some((|| {
        let fd = match &word[..digits] {
            "" if out => 1,
            "" => 0,
            n => n.parse::<u8>().map_err(|_| "no such descriptor")?,
        };
        if fd > 2 {
            return Err("only 0, 1 and 2 can be redirected");
        }
        let (append, rest) = match rest.strip_prefix('>') {
            Some(r) if out => (true, r),
            _ => (false, rest),
        };
        let to = if let Some(n) = rest.strip_prefix('&') {
            match n.parse::<u8>() {
                Ok(n) if n <= 2 => RedirectTo::Fd(n),
                _ => return Err("only 0, 1 and 2 can be duplicated"),
            }
        } else if rest.is_empty() {
            return Err("no file name");
        } else if out {
            RedirectTo::Write {
                path: rest.to_string(),
                append,
            }
        } else {
            RedirectTo::Read {
                path: rest.to_string(),
            }
        };
        Ok(Redirect { fd, to })
    })())
}

/// Expands `$name` and `${name}` in one argument the way nginx-rtmp's `ngx_rtmp_eval`
/// does: a bare name is ASCII letters only (`$name_x` is `$name` then `_x`), unknown
/// variables expand to nothing, `\c` is a literal `c`, and an unterminated `${` or a
/// trailing `\` is dropped.
pub fn substitute(arg: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(arg.len());
    let mut chars = arg.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, next)) = chars.next() {
                    out.push(next);
                }
            }
            '$' => {
                if chars.peek().is_some_and(|&(_, n)| n == '{') {
                    chars.next();
                    let mut name = String::new();
                    let mut closed = false;
                    for (_, n) in chars.by_ref() {
                        if n == '}' {
                            closed = true;
                            break;
                        }
                        name.push(n);
                    }
                    if closed {
                        out.push_str(&vars(&name).unwrap_or_default());
                    }
                } else {
                    let mut name = String::new();
                    while let Some(&(_, n)) = chars.peek() {
                        if !n.is_ascii_alphabetic() {
                            break;
                        }
                        name.push(n);
                        chars.next();
                    }
                    out.push_str(&vars(&name).unwrap_or_default());
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "app" => Some("live".into()),
            "name" => Some("cam 1; rm -rf /".into()),
            "" => Some("EMPTY?".into()),
            _ => None,
        }
    }

    fn words(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn split() {
        let c = split_command(
            "exec_push",
            &["/usr/bin/ffmpeg", "-i", "rtmp://localhost/$app/$name"],
            false,
        );
        assert_eq!(
            c,
            Ok(ExecCommand {
                program: "/usr/bin/ffmpeg".into(),
                args: words(&["-i", "rtmp://localhost/$app/$name"]),
                redirects: vec![],
                names: vec![],
            })
        );
        assert_eq!(
            split_command("exec_push", &[], false).map_err(|e| e.to_string()),
            Err("invalid number of arguments in \"exec_push\" directive".into())
        );
    }

    #[test]
    fn redirections() {
        let c = split_command(
            "exec",
            &[
                "ffmpeg",
                "-i",
                "x",
                "2>>/var/log/ff-$name.log",
                ">/dev/null",
                "<in",
                "2>&1",
                "0<&2",
                "a>b",
            ],
            false,
        )
        .unwrap();
        assert_eq!(c.args, words(&["-i", "x", "a>b"]));
        let w = |fd, path: &str, append| Redirect {
            fd,
            to: RedirectTo::Write {
                path: path.into(),
                append,
            },
        };
        assert_eq!(
            c.redirects,
            vec![
                w(2, "/var/log/ff-$name.log", true),
                w(1, "/dev/null", false),
                Redirect {
                    fd: 0,
                    to: RedirectTo::Read { path: "in".into() }
                },
                Redirect {
                    fd: 2,
                    to: RedirectTo::Fd(1)
                },
                Redirect {
                    fd: 0,
                    to: RedirectTo::Fd(2)
                },
            ]
        );
        for bad in [">", "2>>", "3>x", "1>&7", "999999999999>x", "<"] {
            let e = split_command("exec", &["p", bad], false).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with(&format!("invalid redirection \"{bad}\" in \"exec\"")),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn name_filters() {
        let c = split_command("exec", &["p", "name=a", "-x", "name=b"], true).unwrap();
        assert_eq!(c.args, words(&["-x"]));
        assert_eq!(c.names, words(&["a", "b"]));
        assert!(c.applies_to("a") && c.applies_to("b") && !c.applies_to("c"));
        let c = split_command("exec", &["p", "name=a"], false).unwrap();
        assert_eq!(c.args, words(&["name=a"]));
        assert!(c.applies_to("anything"));
    }

    #[test]
    fn kinds() {
        for k in ExecKind::LISTED {
            assert_eq!(ExecKind::from_directive(k.directive()), Some(k));
            assert!(k.index().is_some());
        }
        assert_eq!(ExecKind::from_directive("exec"), Some(ExecKind::Push));
        assert_eq!(
            ExecKind::from_directive("exec_static"),
            Some(ExecKind::Static)
        );
        assert_eq!(ExecKind::Static.index(), None);
        assert_eq!(ExecKind::from_directive("exec_kill_signal"), None);
        assert!(ExecKind::Push.managed() && ExecKind::Static.managed());
        assert!(!ExecKind::RecordDone.managed());
    }

    #[test]
    fn substitution() {
        let cases = [
            (
                "rtmp://localhost/$app/$name",
                "rtmp://localhost/live/cam 1; rm -rf /",
            ),
            ("${app}_hls", "live_hls"),
            ("$app_hls", "live_hls"),
            ("$appx", ""),
            ("$app1", "live1"),
            ("$unknown-x", "-x"),
            ("\\$app", "$app"),
            ("\\\\$app", "\\live"),
            ("a\\", "a"),
            ("${app", ""),
            ("x${}y", "xEMPTY?y"),
            ("$", "EMPTY?"),
            ("$$app", "EMPTY?live"),
            ("$-", "EMPTY?-"),
            ("$app$app", "livelive"),
            ("päth/$app/ü", "päth/live/ü"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(substitute(input, &vars), want, "{input:?}");
        }
    }
}
