//! The host names written in the configuration (push and pull targets, hook URLs) of servers without a
//! `resolver`: resolved once, when the configuration has been read and merged, with
//! getaddrinfo, as the C module's ngx_parse_url does (a reload resolves again). A name that
//! does not resolve fails the configuration. Servers with a resolver resolve their push and
//! hook names when they use them.
use crate::ngx::conf::RtmpConfCtx;
use crate::ngx::ffi::conf_emerg;
use crate::ngx::ngx_rtmp_core_module::{core_app_conf, core_srv_conf, CoreMainConf};
use crate::ngx::ngx_rtmp_notify_module::notify_conf_mut;
use crate::ngx::ngx_rtmp_relay_module::relay_conf_mut;
use crate::ngx::relay::resolve;
use nginx_sys::ngx_conf_t;
use ngx_rtmp_core::config::relay::Scheme;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

type Cache = HashMap<(String, u16), Result<Vec<SocketAddr>, String>>;

fn lookup(cache: &mut Cache, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    cache
        .entry((host.to_ascii_lowercase(), port))
        .or_insert_with(|| resolve(host, port))
        .clone()
}

fn needs_lookup(host: &str, addrs: &[SocketAddr]) -> bool {
    addrs.is_empty() && host.parse::<IpAddr>().is_err()
}

/// Fills the addresses of one context's names; the error names the first that failed.
fn resolve_ctx(ctx: &RtmpConfCtx, cache: &mut Cache) -> Result<(), String> {
    // SAFETY: ctx is a server, application or recorder context of this configuration; its
    // srv_conf is its server's.
    let (has_resolver, app) = unsafe {
        (
            core_srv_conf(ctx).resolver.is_some(),
            core_app_conf(ctx).name.clone(),
        )
    };

    let place = if app.is_empty() {
        String::new()
    } else {
        format!(" in application \"{app}\"")
    };
    // SAFETY: the configuration is being built: nothing else holds these settings.
    let (relay, notify) = unsafe { (relay_conf_mut(ctx), notify_conf_mut(ctx)) };
    // A server's resolver finds push and hook hosts when they are used; pull hosts are
    // always resolved here, as the C module does.
    let targets = [("push", &mut relay.pushes), ("pull", &mut relay.pulls)];
    for (what, list) in targets {
        if has_resolver && what == "push" {
            continue;
        }
        for t in list.iter_mut() {
            // `pull rtmps://` is never started (yet): nothing to look up.
            let started = what == "push" || t.target.scheme == Scheme::Rtmp;
            if started && needs_lookup(&t.target.host, &t.addrs) {
                t.addrs = lookup(cache, &t.target.host, t.target.port)
                    .map_err(|e| format!("{e} in {what} url \"{}\"{place}", t.target.url))?;
            }
        }
    }
    if has_resolver {
        return Ok(());
    }
    for h in notify.hooks_mut().into_iter().flatten() {
        if needs_lookup(&h.url.host, &h.addrs) {
            h.addrs = lookup(cache, &h.url.host, h.url.port)
                .map_err(|e| format!("{e} in url \"{}\"{place}", h.url.text))?;
        }
    }
    Ok(())
}

/// Runs after the merge (ngx_rtmp.rs); false when a name did not resolve (logged).
pub fn resolve_config_names(cf: *mut ngx_conf_t, cmcf: &CoreMainConf) -> bool {
    let mut cache = Cache::new();
    let mut ctxs: Vec<*mut RtmpConfCtx> = Vec::new();
    for &srv in &cmcf.servers {
        ctxs.push(srv);
        // SAFETY: server contexts were made by new_level in the `server` handler.
        let cscf = unsafe { core_srv_conf(srv) };
        ctxs.extend(cscf.applications.iter().map(|a| a.ctx));
    }
    ctxs.extend(cmcf.nested.iter().map(|&(_, rec)| rec));
    for ctx in ctxs {
        // SAFETY: every context above lives as long as the configuration.
        if let Err(e) = resolve_ctx(unsafe { &*ctx }, &mut cache) {
            conf_emerg(
                cf,
                &format!("{e} (a \"resolver\" in rtmp{{}} or server{{}} resolves names when they are used)"),
            );
            return false;
        }
    }
    true
}
