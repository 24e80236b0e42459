//! `exec_*` command lines: split at config time, substituted per argument at run time.
//! No shell is ever involved, so a variable's value cannot inject words or redirections.

use super::error::ConfError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCommand {
    pub program: String,
    pub args: Vec<String>,
}

/// The directive's arguments are already words (nginx's tokenizer handled quotes), so the
/// first is the program and the rest its arguments.
pub fn split_command(directive: &str, args: &[&str]) -> Result<ExecCommand, ConfError> {
    let Some((&program, rest)) = args.split_first() else {
        return Err(ConfError::new(format!(
            "invalid number of arguments in \"{directive}\" directive"
        )));
    };
    Ok(ExecCommand {
        program: program.to_string(),
        args: rest.iter().map(|a| a.to_string()).collect(),
    })
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

    #[test]
    fn split() {
        let c = split_command(
            "exec_push",
            &["/usr/bin/ffmpeg", "-i", "rtmp://localhost/$app/$name"],
        );
        assert_eq!(
            c,
            Ok(ExecCommand {
                program: "/usr/bin/ffmpeg".into(),
                args: vec!["-i".into(), "rtmp://localhost/$app/$name".into()],
            })
        );
        assert_eq!(
            split_command("exec_push", &[]).map_err(|e| e.to_string()),
            Err("invalid number of arguments in \"exec_push\" directive".into())
        );
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
