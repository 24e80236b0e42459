//! One configured hook with everything a call to it needs, taken from the context the
//! session uses (the server's level for on_connect/on_disconnect, else the application's, or
//! a recorder's for on_record_done).
use super::call::{self, OnDone, Spec};
use crate::ngx::conf::RtmpConfCtx;
use crate::ngx::conn::Conn;
use crate::ngx::ngx_rtmp_notify_module::{notify_conf, Hook, NotifyAppConf};
use crate::ngx::resolver::{self, Resolver};
use nginx_sys::ngx_msec_t;
use ngx_rtmp_core::notify::{build_request, Call, Method, SessionFields};

#[derive(Clone)]
pub struct Endpoint {
    pub hook: Hook,
    pub method: Method,
    pub timeout: ngx_msec_t,
    pub resolver: Option<Resolver>,
}

/// The hook `pick` selects in `ctx`, if configured there.
pub fn endpoint(
    ctx: &RtmpConfCtx,
    pick: impl Fn(&NotifyAppConf) -> &Option<Hook>,
) -> Option<Endpoint> {
    let conf = notify_conf(ctx);
    let hook = pick(conf).clone()?;
    Some(Endpoint {
        hook,
        method: conf.method.unwrap_or_default(),
        timeout: conf.netcall_timeout.unwrap_or(10_000) as ngx_msec_t,
        resolver: resolver::of(ctx),
    })
}

impl Endpoint {
    /// Calls the hook; `on_done` hears the outcome (None: nobody waits).
    pub fn call(
        &self,
        call: &Call,
        fields: &SessionFields,
        about: String,
        on_done: Option<OnDone>,
    ) -> u64 {
        let form = call.form(fields);
        call::start(
            Spec {
                directive: call.directive(),
                url: self.hook.url.clone(),
                addrs: self.hook.addrs.clone(),
                resolver: self.resolver,
                request: build_request(self.method, &self.hook.url, &form),
                timeout: self.timeout,
                about,
            },
            on_done,
        )
    }
}

/// The session's fields as a call sends them; `app`/`info` from its connect.
pub fn session_fields(conn: &Conn, info: &ngx_rtmp_core::protocol::ConnectInfo) -> SessionFields {
    SessionFields {
        app: info.app.clone(),
        flashver: info.flash_ver.clone(),
        swfurl: info.swf_url.clone(),
        tcurl: info.tc_url.clone(),
        pageurl: info.page_url.clone(),
        addr: conn.addr.map(|a| a.to_string()).unwrap_or_default(),
        clientid: clientid(conn),
    }
}

pub fn clientid(conn: &Conn) -> u64 {
    // SAFETY: conn.c is the live connection of this Conn.
    unsafe { (*conn.c).number }
}

/// Who a call is about, for its log lines.
pub fn about(conn: &Conn) -> String {
    let addr = conn.addr.map(|a| a.to_string()).unwrap_or_default();
    format!(", client: {addr}, clientid: {}", clientid(conn))
}
