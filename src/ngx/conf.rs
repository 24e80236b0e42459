//! The configuration machinery every RTMP-type module shares: the three-level conf context
//! (rtmp{} → server{} → application{}), typed conf structs created in nginx pools and merged
//! down, and one generic directive handler that hands parsed arguments to a typed setter.
use super::ffi::{conf_args, conf_emerg, NGX_CONF_ERROR, NGX_CONF_OK};
use nginx_sys::{ngx_command_t, ngx_conf_t, ngx_uint_t};
use std::ffi::{c_char, c_void};
use std::mem::offset_of;

/// The module type nginx-rtmp-module uses ("RTMP"); nginx only checks it for equality.
pub const NGX_RTMP_MODULE: ngx_uint_t = 0x504D_5452;
pub const RTMP_MAIN_CONF: ngx_uint_t = 0x0200_0000;
pub const RTMP_SRV_CONF: ngx_uint_t = 0x0400_0000;
pub const RTMP_APP_CONF: ngx_uint_t = 0x0800_0000;
pub const RTMP_REC_CONF: ngx_uint_t = 0x1000_0000;
/// Where most settings may appear: rtmp{}, server{} and application{}.
pub const RTMP_MSA: ngx_uint_t = RTMP_MAIN_CONF | RTMP_SRV_CONF | RTMP_APP_CONF;
pub const RTMP_MS: ngx_uint_t = RTMP_MAIN_CONF | RTMP_SRV_CONF;

/// Per-level conf arrays, indexed by each RTMP module's ctx_index.
#[repr(C)]
pub struct RtmpConfCtx {
    pub main_conf: *mut *mut c_void,
    pub srv_conf: *mut *mut c_void,
    pub app_conf: *mut *mut c_void,
}

pub const MAIN_CONF_OFFSET: ngx_uint_t = offset_of!(RtmpConfCtx, main_conf) as ngx_uint_t;
pub const SRV_CONF_OFFSET: ngx_uint_t = offset_of!(RtmpConfCtx, srv_conf) as ngx_uint_t;
pub const APP_CONF_OFFSET: ngx_uint_t = offset_of!(RtmpConfCtx, app_conf) as ngx_uint_t;

pub type CreateConf = unsafe extern "C" fn(*mut ngx_conf_t) -> *mut c_void;
pub type MergeConf = unsafe extern "C" fn(*mut ngx_conf_t, *mut c_void, *mut c_void) -> *mut c_char;

/// The ctx of an RTMP-type module: how to make and merge its conf at each level.
#[repr(C)]
pub struct RtmpModuleCtx {
    pub create_main_conf: Option<CreateConf>,
    pub create_srv_conf: Option<CreateConf>,
    pub merge_srv_conf: Option<MergeConf>,
    pub create_app_conf: Option<CreateConf>,
    pub merge_app_conf: Option<MergeConf>,
}

/// A typed conf struct: unset values are `None` until merge fills them from the parent.
pub trait Conf: Default + 'static {
    /// Fills what this level left unset from the enclosing level.
    fn merge(&mut self, _parent: &Self) -> Result<(), String> {
        Ok(())
    }
}

/// `create_*_conf` for any typed conf: a pool allocation whose destructor runs with the pool.
pub unsafe extern "C" fn create_conf<T: Conf>(cf: *mut ngx_conf_t) -> *mut c_void {
    super::ffi::catch("create_conf", std::ptr::null_mut(), || {
        // SAFETY: cf->pool is the cycle's pool, alive for the whole configuration.
        let pool = unsafe { ngx::core::Pool::from_ngx_pool((*cf).pool) };
        pool.allocate(T::default()) as *mut c_void
    })
}

pub unsafe extern "C" fn merge_conf<T: Conf>(
    cf: *mut ngx_conf_t,
    parent: *mut c_void,
    child: *mut c_void,
) -> *mut c_char {
    super::ffi::catch("merge_conf", super::ffi::NGX_CONF_ERROR, || {
        // SAFETY: nginx passes the confs create_conf::<T> made for this module at two levels.
        let (parent, child) = unsafe { (&*(parent as *const T), &mut *(child as *mut T)) };
        match child.merge(parent) {
            Ok(()) => NGX_CONF_OK,
            Err(e) => {
                conf_emerg(cf, &e);
                NGX_CONF_ERROR
            }
        }
    })
}

/// A directive as nginx parsed it.
pub struct Directive {
    pub cf: *mut ngx_conf_t,
    pub name: String,
    pub values: Vec<String>,
}

impl Directive {
    pub fn value(&self) -> &str {
        self.values.first().map(String::as_str).unwrap_or("")
    }
    pub fn values(&self) -> Vec<&str> {
        self.values.iter().map(String::as_str).collect()
    }
    pub fn duplicate(&self) -> String {
        format!("\"{}\" directive is duplicate", self.name)
    }
    /// Stores a value once, as nginx's slots do: a second occurrence is an error.
    pub fn set_once<V>(&self, slot: &mut Option<V>, v: V) -> Result<(), String> {
        if slot.is_some() {
            return Err(self.duplicate());
        }
        *slot = Some(v);
        Ok(())
    }
}

pub type Setter<T> = fn(&mut T, &Directive) -> Result<(), String>;

/// The `set` handler of every RTMP directive: `cmd->post` holds the typed setter.
pub unsafe extern "C" fn set_directive<T: Conf>(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    super::ffi::catch("set_directive", super::ffi::NGX_CONF_ERROR, || {
        // SAFETY: the command tables put a `Setter<T>` in `post` for the module whose conf type is
        // T, and nginx passes that module's conf for the directive's level.
        let (setter, conf) = unsafe {
            let setter: Setter<T> = std::mem::transmute::<*mut c_void, Setter<T>>((*cmd).post);
            (setter, &mut *(conf as *mut T))
        };
        let mut args = conf_args(cf);
        let name = if args.is_empty() {
            String::new()
        } else {
            args.remove(0)
        };
        let d = Directive {
            cf,
            name,
            values: args,
        };
        match setter(conf, &d) {
            Ok(()) => NGX_CONF_OK,
            Err(e) => {
                conf_emerg(cf, &e);
                NGX_CONF_ERROR
            }
        }
    })
}

/// A command table entry with its own `set` handler (blocks, listen, http directives).
macro_rules! command {
    ($name:literal, $type:expr, $set:expr, $conf:expr) => {
        nginx_sys::ngx_command_t {
            name: ngx::ngx_string!($name),
            type_: ($type) as nginx_sys::ngx_uint_t,
            set: Some($set),
            conf: ($conf) as nginx_sys::ngx_uint_t,
            offset: 0,
            post: std::ptr::null_mut(),
        }
    };
}
pub(crate) use command;

/// Builds a command table entry whose handler is `set_directive::<$conf>` calling `$setter`.
macro_rules! directive {
    ($name:literal, $type:expr, $offset:expr, $conf:ty, $setter:expr) => {
        nginx_sys::ngx_command_t {
            name: ngx::ngx_string!($name),
            type_: ($type) as nginx_sys::ngx_uint_t,
            set: Some($crate::ngx::conf::set_directive::<$conf>),
            conf: $offset,
            offset: 0,
            post: $setter as $crate::ngx::conf::Setter<$conf> as *mut std::ffi::c_void,
        }
    };
}
pub(crate) use directive;

/// The conf of module `ctx_index` in a conf array.
///
/// # Safety
/// `arr` must be a conf array of the current cycle with at least `ctx_index + 1` entries, whose
/// entry was created by `create_conf::<T>`.
pub unsafe fn conf_at<'a, T>(arr: *mut *mut c_void, ctx_index: usize) -> &'a mut T {
    // SAFETY: guaranteed by the caller.
    unsafe { &mut *(*arr.add(ctx_index) as *mut T) }
}

/// Stores a setting whose effect comes in a later release; it is named in the start-up warning.
pub fn later<T>(slot: &mut Option<T>, d: &Directive, v: T) -> Result<(), String> {
    super::deferred::note(&d.name);
    d.set_once(slot, v)
}

/// Builds an RTMP module static from its ctx and command table.
macro_rules! rtmp_module {
    ($ctx:expr, $commands:expr) => {
        nginx_sys::ngx_module_t {
            ctx: &$ctx as *const $crate::ngx::conf::RtmpModuleCtx as *mut std::ffi::c_void,
            commands: std::ptr::addr_of_mut!($commands) as *mut nginx_sys::ngx_command_t,
            type_: $crate::ngx::conf::NGX_RTMP_MODULE,
            ..nginx_sys::ngx_module_t::default()
        }
    };
}
pub(crate) use rtmp_module;

/// An RTMP module ctx with only application-level conf of type T.
macro_rules! app_conf_ctx {
    ($t:ty) => {
        $crate::ngx::conf::RtmpModuleCtx {
            create_main_conf: None,
            create_srv_conf: None,
            merge_srv_conf: None,
            create_app_conf: Some($crate::ngx::conf::create_conf::<$t>),
            merge_app_conf: Some($crate::ngx::conf::merge_conf::<$t>),
        }
    };
}
pub(crate) use app_conf_ctx;

/// A setter that parses the value with `$parse` and keeps it for a later release.
macro_rules! later_set {
    ($t:ty, $field:ident, $parse:expr) => {
        |c: &mut $t, d: &$crate::ngx::conf::Directive| {
            let v = $parse(d)?;
            $crate::ngx::conf::later(&mut c.$field, d, v)
        }
    };
}
pub(crate) use later_set;

/// A setter that parses the value with `$parse` and stores it (active now).
macro_rules! set {
    ($t:ty, $field:ident, $parse:expr) => {
        |c: &mut $t, d: &$crate::ngx::conf::Directive| {
            let v = $parse(d)?;
            d.set_once(&mut c.$field, v)
        }
    };
}
pub(crate) use set;
