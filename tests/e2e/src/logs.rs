//! A log capture: every tracing event and span field, at TRACE, from every crate and thread,
//! into an in-memory buffer the privacy scan reads.

use std::{
    io::Write,
    sync::{Mutex, OnceLock},
};

static LOGS: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();

fn buffer() -> std::sync::MutexGuard<'static, Vec<u8>> {
    LOGS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Clone, Copy)]
struct Capture;

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        buffer().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs, once per process, the global subscriber writing everything at TRACE to the buffer.
pub fn capture() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_writer(|| Capture)
            .finish();
        // Another test of this process may have installed it first: that is fine.
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// Everything captured so far.
pub fn captured() -> String {
    String::from_utf8_lossy(&buffer()).into_owned()
}
