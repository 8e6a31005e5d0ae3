//! Writes a set of output files completely or not at all: every file is rendered first, then
//! written to a temporary name in the same folder, flushed, and renamed over its final name.

use super::{Exporter, RenderError, Results};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum WriteError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Renders every exporter, then writes all files into `dir` (created if needed). Returns the
/// paths written.
///
/// # Errors
/// A rendering error (nothing is written) or an I/O error (temporary files are removed).
pub fn write_all(
    dir: &Path,
    results: &Results,
    exporters: &[Box<dyn Exporter>],
) -> Result<Vec<PathBuf>, WriteError> {
    let rendered: Vec<(&'static str, Vec<u8>)> = exporters
        .iter()
        .map(|e| Ok((e.file_name(), e.render(results)?)))
        .collect::<Result<_, RenderError>>()?;
    write_files(dir, &rendered)
}

/// Writes already rendered files atomically.
pub fn write_files(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<Vec<PathBuf>, WriteError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    let mut temps = Vec::new();
    for (name, bytes) in files {
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        if let Err(e) = write_synced(&tmp, bytes) {
            temps.push(tmp);
            cleanup(&temps);
            return Err(e);
        }
        temps.push(tmp);
    }
    let mut done = Vec::new();
    for ((name, _), tmp) in files.iter().zip(&temps) {
        let target = dir.join(name);
        if let Err(source) = fs::rename(tmp, &target) {
            cleanup(&temps);
            return Err(WriteError::Io {
                path: target,
                source,
            });
        }
        done.push(target);
    }
    Ok(done)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let mut f = fs::File::create(path).map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

fn cleanup(temps: &[PathBuf]) {
    for t in temps {
        let _ = fs::remove_file(t);
    }
}
