//! Build progress on stderr: one indicatif bar per image and architecture on a
//! terminal, plain `tracing` lines otherwise (CI logs).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::catalog::Arch;
use crate::image::{Reporter, Stage};

/// The bars on screen, shared with the log writer so that log lines are printed above
/// the bars instead of through them (see `logging`).
static BARS: OnceLock<MultiProgress> = OnceLock::new();

/// Returns the bars once a [`BarReporter`] has drawn any.
pub fn active_bars() -> Option<&'static MultiProgress> {
    BARS.get()
}

/// Number of stages a bar steps through, for its length.
const STAGES: u64 = 6;

/// Draws progress bars; used only when stderr is a terminal.
pub struct BarReporter {
    bars: MultiProgress,
    by_key: Mutex<HashMap<String, ProgressBar>>,
}

impl BarReporter {
    /// Creates a reporter with no bars yet.
    pub fn new() -> Self {
        Self {
            bars: BARS.get_or_init(MultiProgress::new).clone(),
            by_key: Mutex::new(HashMap::new()),
        }
    }
}

impl Reporter for BarReporter {
    fn stage(&self, image: &str, arch: Arch, stage: Stage) {
        let key = format!("{image} {arch}");
        let mut bars = self.by_key.lock().unwrap_or_else(PoisonError::into_inner);
        let bar = bars.entry(key.clone()).or_insert_with(|| {
            let bar = self.bars.add(ProgressBar::new(STAGES));
            let style = ProgressStyle::with_template("{prefix:<32} [{bar:12}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(key);
            bar
        });
        bar.set_message(stage.to_string());
        bar.inc(1);
        if stage == Stage::Done {
            bar.finish();
        }
    }
}

/// Logs each stage as a `tracing` line.
pub struct LogReporter;

impl Reporter for LogReporter {
    fn stage(&self, image: &str, arch: Arch, stage: Stage) {
        tracing::info!(image, %arch, %stage, "build stage");
    }
}
