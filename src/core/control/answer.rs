//! One worker's answer to a control request, and the HTTP reply made from all of them.

/// What one worker did: how many sessions it acted on, the last recording path it started or
/// stopped, and an error that refuses the whole request (e.g. an unknown recorder).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub count: u64,
    pub path: Option<String>,
    pub error: Option<(u16, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Answer {
    /// The reply to the client from every worker's answer. As the C module: record methods
    /// answer with the file path (204 when there is none), drop and redirect with the count.
    /// A recorder unknown to every worker that had a match is a 404 with its reason.
    pub fn reply(answers: &[Answer], record: bool) -> Reply {
        let count: u64 = answers.iter().map(|a| a.count).sum();
        if count == 0 {
            if let Some((status, reason)) = answers.iter().find_map(|a| a.error.clone()) {
                return Reply {
                    status,
                    body: format!("{reason}\n"),
                };
            }
        }
        if record {
            match answers.iter().rev().find_map(|a| a.path.clone()) {
                Some(p) => Reply {
                    status: 200,
                    body: p,
                },
                None => Reply {
                    status: 204,
                    body: String::new(),
                },
            }
        } else {
            Reply {
                status: 200,
                body: count.to_string(),
            }
        }
    }

    /// A compact form for the shared-memory mailbox: `count\tstatus\treason\tpath`.
    pub fn to_wire(&self) -> String {
        let (status, reason) = self.error.clone().unwrap_or((0, String::new()));
        let clean = |s: &str| s.replace(['\t', '\n'], " ");
        format!(
            "{}\t{}\t{}\t{}",
            self.count,
            status,
            clean(&reason),
            clean(self.path.as_deref().unwrap_or(""))
        )
    }

    pub fn from_wire(s: &str) -> Option<Answer> {
        let mut it = s.splitn(4, '\t');
        let count = it.next()?.parse().ok()?;
        let status: u16 = it.next()?.parse().ok()?;
        let reason = it.next()?.to_string();
        let path = it.next()?.to_string();
        Some(Answer {
            count,
            path: (!path.is_empty()).then_some(path),
            error: (status != 0).then_some((status, reason)),
        })
    }
}
