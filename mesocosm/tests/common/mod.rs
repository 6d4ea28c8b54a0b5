//! What the tests that drive the real `mesocosm` binary share: where the
//! scenario library is, a scratch directory per test binary, running the
//! binary; and (`lang`) what the scenario-language tests share.
#![allow(dead_code)] // each test binary uses its own part

pub mod lang;

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

/// A file of the scenario library (`scenarios/`, beside this crate).
pub fn library(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios")).join(name)
}

/// A test fixture (`tests/data/`): scenarios written for a test, not the library.
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data")).join(name)
}

/// A scratch directory for this test process, named after `what`.
pub fn out_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mesocosm-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Run the `mesocosm` binary with `args`, to completion.
pub fn mesocosm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesocosm")).args(args).output().expect("the mesocosm binary runs")
}

/// Start the `mesocosm` binary with `args` without waiting for it (its output
/// captured): several run side by side, as separate processes.
pub fn spawn_mesocosm(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_mesocosm"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the mesocosm binary starts")
}

/// Bytes a process wrote, as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A writer a test reads back after the run (a timeline or a trace in memory).
#[derive(Clone, Default)]
pub struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Buffer {
    /// What was written, as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("utf-8 output")
    }
}

impl std::io::Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
