//! `allow` / `deny` `[publish|play]` `ADDR|CIDR|all`, first match wins.
use super::conf::{
    create_conf, directive, merge_conf, Conf, Directive, RtmpConfCtx, RtmpModuleCtx,
    APP_CONF_OFFSET, NGX_RTMP_MODULE, RTMP_MSA,
};
use super::ffi::conf_warn;
use nginx_sys::{ngx_command_t, ngx_module_t, ngx_uint_t, NGX_CONF_TAKE12};
use ngx_rtmp_core::config::access::{check, parse_access, AccessRule};
use std::ffi::c_void;
use std::net::IpAddr;
use std::ptr::addr_of_mut;

#[derive(Default)]
pub struct AccessAppConf {
    pub rules: Vec<AccessRule>,
}

impl Conf for AccessAppConf {
    fn merge(&mut self, p: &Self) -> Result<(), String> {
        // As in nginx: a level with no rules of its own takes the enclosing level's.
        if self.rules.is_empty() {
            self.rules = p.rules.clone();
        }
        Ok(())
    }
}

fn set_rule(c: &mut AccessAppConf, d: &Directive) -> Result<(), String> {
    let (rule, warning) = parse_access(&d.name, &d.values()).map_err(|e| e.to_string())?;
    if let Some(w) = warning {
        conf_warn(d.cf, &w);
    }
    c.rules.push(rule);
    Ok(())
}

const T12: ngx_uint_t = RTMP_MSA | NGX_CONF_TAKE12 as ngx_uint_t;

static mut NGX_RTMP_ACCESS_COMMANDS: [ngx_command_t; 3] = [
    directive!("allow", T12, APP_CONF_OFFSET, AccessAppConf, set_rule),
    directive!("deny", T12, APP_CONF_OFFSET, AccessAppConf, set_rule),
    ngx_command_t::empty(),
];

static NGX_RTMP_ACCESS_MODULE_CTX: RtmpModuleCtx = RtmpModuleCtx {
    create_main_conf: None,
    create_srv_conf: None,
    merge_srv_conf: None,
    create_app_conf: Some(create_conf::<AccessAppConf>),
    merge_app_conf: Some(merge_conf::<AccessAppConf>),
};

#[no_mangle]
pub static mut ngx_rtmp_access_module: ngx_module_t = ngx_module_t {
    ctx: &NGX_RTMP_ACCESS_MODULE_CTX as *const RtmpModuleCtx as *mut c_void,
    commands: addr_of_mut!(NGX_RTMP_ACCESS_COMMANDS) as *mut ngx_command_t,
    type_: NGX_RTMP_MODULE,
    ..ngx_module_t::default()
};

/// Whether the application's rules let `addr` publish (or play). A client whose address is
/// not IP (none today) is judged by the rules for `all`.
pub fn access_allows(ctx: &RtmpConfCtx, publish: bool, addr: Option<IpAddr>) -> bool {
    // SAFETY: ctx is an application context made with this module's create_app_conf.
    let conf: &AccessAppConf = unsafe {
        super::conf::conf_at(
            ctx.app_conf,
            (*addr_of_mut!(ngx_rtmp_access_module)).ctx_index,
        )
    };
    let addr = addr.unwrap_or(IpAddr::from([0u8; 4]));
    check(&conf.rules, publish, addr)
}
