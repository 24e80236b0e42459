//! rtmp-load: publishers and players in one process. `run` measures a window of live traffic
//! (fan-out, many streams, late joiners); `churn` opens and closes sessions as fast as it can.

pub mod churn;
pub mod player;
pub mod publisher;
pub mod run;

/// One stream on one server.
#[derive(Clone)]
pub struct Target {
    pub addr: String,
    pub app: String,
    pub name: String,
}

impl Target {
    pub fn tc_url(&self) -> String {
        format!("rtmp://{}/{}", self.addr, self.app)
    }
}
