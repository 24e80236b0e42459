//! The `exec` family's directives: command lines split into program and arguments at config
//! time (no shell is ever involved), kept per kind and merged down as nginx-rtmp does. The
//! processes themselves are run by src/ngx/exec/.
use super::conf::{
    app_conf_ctx, conf_at, directive, rtmp_module, set, Conf, Directive, RtmpConfCtx,
    RtmpModuleCtx, APP_CONF_OFFSET, RTMP_MSA, RTMP_REC_CONF,
};
use super::values::{flag, msec};
use nginx_sys::{
    ngx_command_t, ngx_module_t, ngx_uint_t, NGX_CONF_1MORE, NGX_CONF_FLAG, NGX_CONF_TAKE1,
};
use ngx_rtmp_core::config::exec::{split_command, ExecCommand, ExecKind};
use std::ptr::addr_of_mut;

/// nginx-rtmp's defaults: respawn on, 5 s, SIGKILL.
pub const RESPAWN_TIMEOUT_MS: u64 = 5000;

#[derive(Default)]
pub struct ExecAppConf {
    /// One list per kind of `ExecKind::LISTED`, in config order.
    pub lists: [Vec<ExecCommand>; 7],
    /// `exec_static` of this level only: they run once per worker, so they are not
    /// inherited (that would run a server's command once per application).
    pub statics: Vec<ExecCommand>,
    pub respawn: Option<bool>,
    pub respawn_timeout: Option<u64>,
    pub kill_signal: Option<i32>,
    pub options: Option<bool>,
}

impl Conf for ExecAppConf {
    fn merge(&mut self, p: &Self) -> Result<(), String> {
        // nginx-rtmp appends the enclosing level's commands after this level's own, so an
        // application runs both its own and its server's.
        for (mine, theirs) in self.lists.iter_mut().zip(&p.lists) {
            mine.extend(theirs.iter().cloned());
        }
        self.respawn = self.respawn.or(p.respawn).or(Some(true));
        self.respawn_timeout = self
            .respawn_timeout
            .or(p.respawn_timeout)
            .or(Some(RESPAWN_TIMEOUT_MS));
        self.kill_signal = self.kill_signal.or(p.kill_signal).or(Some(libc::SIGKILL));
        self.options = self.options.or(p.options);
        Ok(())
    }
}

impl ExecAppConf {
    pub fn list(&self, kind: ExecKind) -> &[ExecCommand] {
        kind.index().map_or(&[], |i| &self.lists[i])
    }

    /// How long after a supervised child exits it is started again (None: never).
    pub fn respawn_after(&self) -> Option<u64> {
        self.respawn
            .unwrap_or(true)
            .then(|| self.respawn_timeout.unwrap_or(RESPAWN_TIMEOUT_MS))
    }

    pub fn kill_signal(&self) -> i32 {
        self.kill_signal.unwrap_or(libc::SIGKILL)
    }
}

fn set_exec(c: &mut ExecAppConf, d: &Directive) -> Result<(), String> {
    let kind = ExecKind::from_directive(&d.name)
        .ok_or_else(|| format!("unknown exec directive \"{}\"", d.name))?;
    // `exec_options on` applies to the commands after it in the same block, as in
    // nginx-rtmp (it is read while the command is parsed).
    let cmd =
        split_command(&d.name, &d.values(), c.options == Some(true)).map_err(|e| e.to_string())?;
    match kind.index() {
        Some(i) => c.lists[i].push(cmd),
        None => c.statics.push(cmd),
    }
    Ok(())
}

/// `exec_kill_signal term|kill|hup|usr1|...` (nginx-rtmp's POSIX.1 names, any case, `SIG`
/// prefix allowed) or a number.
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
        "ILL" => libc::SIGILL,
        "ABRT" => libc::SIGABRT,
        "FPE" => libc::SIGFPE,
        "SEGV" => libc::SIGSEGV,
        "PIPE" => libc::SIGPIPE,
        "ALRM" => libc::SIGALRM,
        "CHLD" => libc::SIGCHLD,
        "CONT" => libc::SIGCONT,
        "STOP" => libc::SIGSTOP,
        "TSTP" => libc::SIGTSTP,
        "TTIN" => libc::SIGTTIN,
        "TTOU" => libc::SIGTTOU,
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
        set!(E, respawn, flag)
    ),
    directive!(
        "respawn_timeout",
        RTMP_MSA | NGX_CONF_TAKE1 as ngx_uint_t,
        APP_CONF_OFFSET,
        E,
        set!(E, respawn_timeout, msec)
    ),
    directive!(
        "exec_kill_signal",
        RTMP_MSA | NGX_CONF_TAKE1 as ngx_uint_t,
        APP_CONF_OFFSET,
        E,
        set!(E, kill_signal, signal)
    ),
    directive!(
        "exec_options",
        RTMP_MSA | NGX_CONF_FLAG as ngx_uint_t,
        APP_CONF_OFFSET,
        E,
        set!(E, options, flag)
    ),
    ngx_command_t::empty(),
];

static NGX_RTMP_EXEC_MODULE_CTX: RtmpModuleCtx = app_conf_ctx!(ExecAppConf);

#[no_mangle]
pub static mut ngx_rtmp_exec_module: ngx_module_t =
    rtmp_module!(NGX_RTMP_EXEC_MODULE_CTX, NGX_RTMP_EXEC_COMMANDS);

/// The exec settings of a level (rtmp{}, server{}, application{} or recorder{}).
pub fn exec_conf(ctx: &RtmpConfCtx) -> &ExecAppConf {
    // SAFETY: ctx is a conf context of the running cycle, made with this module's
    // create_app_conf at index ctx_index.
    unsafe {
        conf_at(
            ctx.app_conf,
            (*addr_of_mut!(ngx_rtmp_exec_module)).ctx_index,
        )
    }
}
