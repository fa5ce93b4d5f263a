//! What the fixture runners share: finding files, progress, the summary.

use indicatif::{ProgressBar, ProgressStyle};
use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
    sync::Mutex,
};

/// Every `.json` file under the given files or folders, sorted.
pub(crate) fn json_files(paths: &[PathBuf]) -> eyre::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if !path.exists() {
            eyre::bail!("{}: no such file or folder", path.display());
        }
        if path.is_file() {
            files.push(path.clone());
            continue;
        }
        for entry in walkdir::WalkDir::new(path) {
            let entry = entry.map_err(|e| eyre::eyre!("{}: {e}", path.display()))?;
            if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "json") {
                files.push(entry.into_path());
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Counts and messages of a fixture run, shared by worker threads.
pub(crate) struct Report {
    bar: ProgressBar,
    inner: Mutex<Counts>,
    verbose: bool,
}

#[derive(Default)]
struct Counts {
    passed: usize,
    failed: usize,
    skipped: usize,
    skips: Vec<String>,
}

impl Report {
    pub(crate) fn new(files: usize, verbose: bool) -> Self {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(files as u64);
            if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed} {msg}") {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        Self { bar, inner: Mutex::new(Counts::default()), verbose }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn pass(&self, name: &str) {
        self.counts().passed += 1;
        if self.verbose {
            self.bar.println(format!("ok   {name}"));
        }
    }

    pub(crate) fn fail(&self, name: &str, reason: &str) {
        self.counts().failed += 1;
        self.bar.suspend(|| println!("FAIL {name}: {reason}"));
    }

    pub(crate) fn skip(&self, name: &str, reason: &str) {
        let mut c = self.counts();
        c.skipped += 1;
        c.skips.push(format!("SKIP {name}: {reason}"));
    }

    pub(crate) fn file_done(&self, path: &Path) {
        self.bar.inc(1);
        if let Some(name) = path.file_name() {
            self.bar.set_message(name.to_string_lossy().into_owned());
        }
    }

    /// Prints the skips (if asked) and the summary line; returns whether
    /// everything passed.
    pub(crate) fn finish(&self, list_skips: bool) -> bool {
        self.bar.finish_and_clear();
        let c = self.counts();
        if list_skips {
            let mut skips = c.skips.clone();
            skips.sort();
            for s in skips {
                println!("{s}");
            }
        }
        println!("{} passed, {} failed, {} skipped", c.passed, c.failed, c.skipped);
        c.failed == 0
    }
}
