//! `hls*` with nginx-rtmp-module's syntax. The segmenter runs per published stream (see
//! storage/); fragment encryption (`hls_keys` and friends) is parsed and comes later.
use super::conf::{
    app_conf_ctx, conf_at, directive, later_set, rtmp_module, set, Conf, Directive, RtmpConfCtx,
    RtmpModuleCtx, APP_CONF_OFFSET, RTMP_MSA,
};
use super::values::{flag, msec, number, one_of, path, size, string};
use nginx_sys::{
    ngx_command_t, ngx_module_t, ngx_uint_t, NGX_CONF_1MORE, NGX_CONF_FLAG, NGX_CONF_TAKE1,
};

#[derive(Default)]
pub struct HlsAppConf {
    pub hls: Option<bool>,
    pub path: Option<String>,
    pub fragment: Option<u64>,
    pub max_fragment: Option<u64>,
    pub playlist_length: Option<u64>,
    pub muxdelay: Option<u64>,
    pub sync: Option<u64>,
    pub continuous: Option<bool>,
    pub nested: Option<bool>,
    pub fragment_naming: Option<String>,
    pub fragment_naming_granularity: Option<u64>,
    pub fragment_slicing: Option<String>,
    pub playlist_type: Option<String>,
    pub fragment_type: Option<String>,
    pub max_audio_delay: Option<u64>,
    pub audio_buffer_size: Option<u64>,
    pub cleanup: Option<bool>,
    pub variants: Vec<Vec<String>>,
    pub base_url: Option<String>,
    pub keys: Option<bool>,
    pub key_path: Option<String>,
    pub key_url: Option<String>,
    pub fragments_per_key: Option<u64>,
}

impl Conf for HlsAppConf {
    fn merge(&mut self, p: &Self) -> Result<(), String> {
        macro_rules! inherit {
            ($($f:ident),*) => { $( if self.$f.is_none() { self.$f = p.$f.clone(); } )* };
        }
        inherit!(
            hls,
            path,
            fragment,
            max_fragment,
            playlist_length,
            muxdelay,
            sync,
            continuous,
            nested,
            fragment_naming,
            fragment_naming_granularity,
            fragment_slicing,
            playlist_type,
            fragment_type,
            max_audio_delay,
            audio_buffer_size,
            cleanup,
            base_url,
            keys,
            key_path,
            key_url,
            fragments_per_key
        );
        if self.variants.is_empty() {
            self.variants = p.variants.clone();
        }
        if self.hls == Some(true) && self.path.as_deref().unwrap_or("").is_empty() {
            return Err("hls_path is not set; HLS needs a directory (\"hls_path /path/;\")".into());
        }
        Ok(())
    }
}

fn set_hls(c: &mut HlsAppConf, d: &Directive) -> Result<(), String> {
    let on = flag(d)?;
    d.set_once(&mut c.hls, on)
}

fn set_variant(c: &mut HlsAppConf, d: &Directive) -> Result<(), String> {
    c.variants.push(d.values.clone());
    Ok(())
}

type H = HlsAppConf;
const T1: ngx_uint_t = RTMP_MSA | NGX_CONF_TAKE1 as ngx_uint_t;
const F: ngx_uint_t = RTMP_MSA | NGX_CONF_FLAG as ngx_uint_t;

static mut NGX_RTMP_HLS_COMMANDS: [ngx_command_t; 24] = [
    directive!("hls", F, APP_CONF_OFFSET, H, set_hls),
    directive!("hls_path", T1, APP_CONF_OFFSET, H, set!(H, path, path)),
    directive!(
        "hls_fragment",
        T1,
        APP_CONF_OFFSET,
        H,
        set!(H, fragment, msec)
    ),
    directive!(
        "hls_max_fragment",
        T1,
        APP_CONF_OFFSET,
        H,
        set!(H, max_fragment, msec)
    ),
    directive!(
        "hls_playlist_length",
        T1,
        APP_CONF_OFFSET,
        H,
        set!(H, playlist_length, msec)
    ),
    directive!(
        "hls_muxdelay",
        T1,
        APP_CONF_OFFSET,
        H,
        set!(H, muxdelay, msec)
    ),
    directive!("hls_sync", T1, APP_CONF_OFFSET, H, set!(H, sync, msec)),
    directive!(
        "hls_continuous",
        F,
        APP_CONF_OFFSET,
        H,
        set!(H, continuous, flag)
    ),
    directive!("hls_nested", F, APP_CONF_OFFSET, H, set!(H, nested, flag)),
    directive!(
        "hls_fragment_naming",
        T1,
        APP_CONF_OFFSET,
        H,
        set!(H, fragment_naming, |d| one_of(
            d,
            &["sequential", "timestamp", "system"]
        ))
    ),
    directive!(
        "hls_fragment_naming_granularity",
        T1,
        APP_CONF_OFFSET,
        H,
        set!(H, fragment_naming_granularity, number)
    ),
    directive!(
        "hls_fragment_slicing",
        T1,
        APP_CONF_OFFSET,
        H,
        set!(H, fragment_slicing, |d| one_of(d, &["plain", "aligned"]))
    ),
    directive!(
        "hls_type",
        T1,
        APP_CONF_OFFSET,
        H,
        set!(H, playlist_type, |d| one_of(d, &["live", "event"]))
    ),
    directive!(
        "hls_fragment_type",
        T1,
        APP_CONF_OFFSET,
        H,
        set!(H, fragment_type, |d| one_of(d, &["auto", "mpegts", "fmp4"]))
    ),
    directive!(
        "hls_max_audio_delay",
        T1,
        APP_CONF_OFFSET,
        H,
        set!(H, max_audio_delay, msec)
    ),
    directive!(
        "hls_audio_buffer_size",
        T1,
        APP_CONF_OFFSET,
        H,
        set!(H, audio_buffer_size, size)
    ),
    directive!("hls_cleanup", F, APP_CONF_OFFSET, H, set!(H, cleanup, flag)),
    directive!(
        "hls_variant",
        RTMP_MSA | NGX_CONF_1MORE as ngx_uint_t,
        APP_CONF_OFFSET,
        H,
        set_variant
    ),
    directive!(
        "hls_base_url",
        T1,
        APP_CONF_OFFSET,
        H,
        set!(H, base_url, string)
    ),
    directive!("hls_keys", F, APP_CONF_OFFSET, H, later_set!(H, keys, flag)),
    directive!(
        "hls_key_path",
        T1,
        APP_CONF_OFFSET,
        H,
        later_set!(H, key_path, string)
    ),
    directive!(
        "hls_key_url",
        T1,
        APP_CONF_OFFSET,
        H,
        later_set!(H, key_url, string)
    ),
    directive!(
        "hls_fragments_per_key",
        T1,
        APP_CONF_OFFSET,
        H,
        later_set!(H, fragments_per_key, number)
    ),
    ngx_command_t::empty(),
];

static NGX_RTMP_HLS_MODULE_CTX: RtmpModuleCtx = app_conf_ctx!(HlsAppConf);

#[no_mangle]
pub static mut ngx_rtmp_hls_module: ngx_module_t =
    rtmp_module!(NGX_RTMP_HLS_MODULE_CTX, NGX_RTMP_HLS_COMMANDS);

pub fn hls_conf(ctx: &RtmpConfCtx) -> &HlsAppConf {
    // SAFETY: ctx is an application context of the running cycle, made with this module's
    // create_app_conf at index ctx_index.
    unsafe {
        conf_at(
            ctx.app_conf,
            (*std::ptr::addr_of_mut!(ngx_rtmp_hls_module)).ctx_index,
        )
    }
}
