//! The `exec` family: command lines split into program and arguments at config time (no
//! shell is ever involved) and kept; running them comes with the exec release.
use super::conf::{
    app_conf_ctx, directive, later_set, rtmp_module, Conf, Directive, RtmpModuleCtx,
    APP_CONF_OFFSET, RTMP_MSA, RTMP_REC_CONF,
};
use super::values::{flag, msec};
use nginx_sys::{
    ngx_command_t, ngx_module_t, ngx_uint_t, NGX_CONF_1MORE, NGX_CONF_FLAG, NGX_CONF_TAKE1,
};
use ngx_rtmp_core::config::exec::{split_command, ExecCommand};

#[derive(Default)]
pub struct ExecAppConf {
    /// (directive, command) in config order.
    pub commands: Vec<(String, ExecCommand)>,
    pub respawn: Option<bool>,
    pub respawn_timeout: Option<u64>,
    pub kill_signal: Option<i32>,
    pub options: Option<bool>,
}

impl Conf for ExecAppConf {
    fn merge(&mut self, p: &Self) -> Result<(), String> {
        if self.commands.is_empty() {
            self.commands = p.commands.clone();
        }
        self.respawn = self.respawn.or(p.respawn).or(Some(true));
        self.respawn_timeout = self.respawn_timeout.or(p.respawn_timeout).or(Some(5000));
        self.kill_signal = self.kill_signal.or(p.kill_signal).or(Some(libc::SIGKILL));
        self.options = self.options.or(p.options);
        Ok(())
    }
}

fn set_exec(c: &mut ExecAppConf, d: &Directive) -> Result<(), String> {
    let cmd = split_command(&d.name, &d.values()).map_err(|e| e.to_string())?;
    super::deferred::note(&d.name);
    c.commands.push((d.name.clone(), cmd));
    Ok(())
}

/// `exec_kill_signal term|kill|hup|usr1|...` or a number, as kill(1) spells them.
fn signal(d: &Directive) -> Result<i32, String> {
    let v = d.value();
    if let Ok(n) = v.parse::<i32>() {
        if (1..=64).contains(&n) {
            return Ok(n);
        }
    }
    let name = v.to_ascii_uppercase();
    let name = name.strip_prefix("SIG").unwrap_or(&name);
    let n = match name {
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "KILL" => libc::SIGKILL,
        "USR1" => libc::SIGUSR1,
        "USR2" => libc::SIGUSR2,
        "TERM" => libc::SIGTERM,
        _ => {
            return Err(format!(
                "unknown signal \"{v}\" in \"{}\" directive",
                d.name
            ))
        }
    };
    Ok(n)
}

type E = ExecAppConf;
const M: ngx_uint_t = RTMP_MSA | NGX_CONF_1MORE as ngx_uint_t;

static mut NGX_RTMP_EXEC_COMMANDS: [ngx_command_t; 14] = [
    directive!("exec", M, APP_CONF_OFFSET, E, set_exec),
    directive!("exec_push", M, APP_CONF_OFFSET, E, set_exec),
    directive!("exec_pull", M, APP_CONF_OFFSET, E, set_exec),
    directive!("exec_publish", M, APP_CONF_OFFSET, E, set_exec),
    directive!("exec_publish_done", M, APP_CONF_OFFSET, E, set_exec),
    directive!("exec_play", M, APP_CONF_OFFSET, E, set_exec),
    directive!("exec_play_done", M, APP_CONF_OFFSET, E, set_exec),
    directive!(
        "exec_record_done",
        M | RTMP_REC_CONF,
        APP_CONF_OFFSET,
        E,
        set_exec
    ),
    directive!("exec_static", M, APP_CONF_OFFSET, E, set_exec),
    directive!(
        "respawn",
        RTMP_MSA | NGX_CONF_FLAG as ngx_uint_t,
        APP_CONF_OFFSET,
        E,
        later_set!(E, respawn, flag)
    ),
    directive!(
        "respawn_timeout",
        RTMP_MSA | NGX_CONF_TAKE1 as ngx_uint_t,
        APP_CONF_OFFSET,
        E,
        later_set!(E, respawn_timeout, msec)
    ),
    directive!(
        "exec_kill_signal",
        RTMP_MSA | NGX_CONF_TAKE1 as ngx_uint_t,
        APP_CONF_OFFSET,
        E,
        later_set!(E, kill_signal, signal)
    ),
    directive!(
        "exec_options",
        RTMP_MSA | NGX_CONF_FLAG as ngx_uint_t,
        APP_CONF_OFFSET,
        E,
        later_set!(E, options, flag)
    ),
    ngx_command_t::empty(),
];

static NGX_RTMP_EXEC_MODULE_CTX: RtmpModuleCtx = app_conf_ctx!(ExecAppConf);

#[no_mangle]
pub static mut ngx_rtmp_exec_module: ngx_module_t =
    rtmp_module!(NGX_RTMP_EXEC_MODULE_CTX, NGX_RTMP_EXEC_COMMANDS);
