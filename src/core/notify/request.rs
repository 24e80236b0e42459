//! The HTTP request of a hook: HTTP/1.0 with `Connection: close`, as nginx-rtmp-module's
//! netcall sends it; the form is the body of a POST or the query string of a GET.

use super::form::Form;
use super::url::HookUrl;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    Get,
    /// nginx-rtmp's default.
    #[default]
    Post,
}

impl Method {
    /// `notify_method get|post`.
    pub fn parse(word: &str) -> Option<Method> {
        match word.to_ascii_lowercase().as_str() {
            "get" => Some(Method::Get),
            "post" => Some(Method::Post),
            _ => None,
        }
    }
}

pub fn build_request(method: Method, url: &HookUrl, form: &Form) -> Vec<u8> {
    let encoded = form.encode();
    let (target, body) = match method {
        Method::Get => {
            let sep = if url.path.contains('?') { '&' } else { '?' };
            let target = if encoded.is_empty() {
                url.path.clone()
            } else {
                format!("{}{sep}{encoded}", url.path)
            };
            (target, String::new())
        }
        Method::Post => (url.path.clone(), encoded),
    };
    let verb = match method {
        Method::Get => "GET",
        Method::Post => "POST",
    };
    let mut head = format!(
        "{verb} {target} HTTP/1.0\r\nHost: {}\r\nUser-Agent: ngx-rtmp\r\nConnection: close\r\n",
        url.host_header()
    );
    if method == Method::Post {
        head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = head.into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::url::parse_hook_url;

    fn form() -> Form {
        let mut f = Form::default();
        f.add("call", "publish");
        f.add("name", "a b");
        f.client_args = "key=s".into();
        f
    }

    #[test]
    fn post_carries_the_form_in_the_body() {
        let u = parse_hook_url("on_publish", "http://127.0.0.1:8080/auth").unwrap();
        let r = String::from_utf8(build_request(Method::Post, &u, &form())).unwrap();
        assert_eq!(
            r,
            "POST /auth HTTP/1.0\r\nHost: 127.0.0.1:8080\r\nUser-Agent: ngx-rtmp\r\n\
             Connection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: 31\r\n\r\ncall=publish&name=a%20b&key=s"
                .replace("31", &"call=publish&name=a%20b&key=s".len().to_string())
        );
    }

    #[test]
    fn get_carries_the_form_in_the_query() {
        let u = parse_hook_url("on_publish", "http://h/auth?token=1").unwrap();
        let r = String::from_utf8(build_request(Method::Get, &u, &form())).unwrap();
        assert!(
            r.starts_with(
                "GET /auth?token=1&call=publish&name=a%20b&key=s HTTP/1.0\r\nHost: h\r\n"
            ),
            "{r}"
        );
        assert!(r.ends_with("Content-Length: 0\r\n\r\n"), "{r}");
        let u = parse_hook_url("on_publish", "http://h").unwrap();
        let r = String::from_utf8(build_request(Method::Get, &u, &Form::default())).unwrap();
        assert!(r.starts_with("GET / HTTP/1.0\r\n"), "{r}");
    }

    #[test]
    fn methods() {
        assert_eq!(Method::parse("GET"), Some(Method::Get));
        assert_eq!(Method::parse("post"), Some(Method::Post));
        assert_eq!(Method::parse("put"), None);
    }
}
