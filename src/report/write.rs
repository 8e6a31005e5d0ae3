//! Writes a set of output files completely or not at all: every file is rendered first, then
//! written to a temporary name in the same folder, flushed, and renamed over its final name.

use super::{Exporter, Output, RenderError};
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

/// Renders `doc` with every exporter, then writes all their files into `dir` (created if
/// needed). Returns the paths written.
///
/// # Errors
/// A rendering error (nothing is written) or an I/O error (temporary files are removed).
pub fn write_all<D: ?Sized>(
    dir: &Path,
    doc: &D,
    exporters: &[Box<dyn Exporter<D>>],
) -> Result<Vec<PathBuf>, WriteError> {
    let mut rendered: Vec<Output> = Vec::new();
    for e in exporters {
        rendered.extend(e.render(doc)?);
    }
    write_files(dir, &rendered)
}

/// Writes already rendered files as one unit: either every file is replaced by its new
/// version, or none is. New versions go to temporary names first; the old files are moved
/// aside, the new ones renamed into place, and the old ones deleted only once all are in; any
/// failure on the way puts the old files back.
pub fn write_files(dir: &Path, files: &[Output]) -> Result<Vec<PathBuf>, WriteError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    let targets: Vec<PathBuf> = files.iter().map(|f| dir.join(&f.name)).collect();
    if let Some(t) = targets.iter().find(|t| t.exists() && !t.is_file()) {
        let source = std::io::Error::other(
            "something other than a file is in the way; remove it or choose another -o",
        );
        return Err(WriteError::Io {
            path: t.clone(),
            source,
        });
    }
    let pid = std::process::id();
    let temps: Vec<PathBuf> = files
        .iter()
        .map(|f| dir.join(format!(".{}.tmp-{pid}", f.name)))
        .collect();
    for (f, tmp) in files.iter().zip(&temps) {
        if let Err(e) = write_synced(tmp, &f.bytes) {
            cleanup(&temps);
            return Err(e);
        }
    }
    let olds: Vec<PathBuf> = files
        .iter()
        .map(|f| dir.join(format!(".{}.old-{pid}", f.name)))
        .collect();
    let mut moved_aside = Vec::new();
    for (target, old) in targets.iter().zip(&olds) {
        if target.exists() {
            if let Err(source) = fs::rename(target, old) {
                restore(&moved_aside, &targets, &olds);
                cleanup(&temps);
                return Err(WriteError::Io {
                    path: target.clone(),
                    source,
                });
            }
            moved_aside.push(targets.iter().position(|t| t == target).expect("a target"));
        }
    }
    for (k, (tmp, target)) in temps.iter().zip(&targets).enumerate() {
        if let Err(source) = fs::rename(tmp, target) {
            cleanup(&targets[..k]);
            restore(&moved_aside, &targets, &olds);
            cleanup(&temps);
            return Err(WriteError::Io {
                path: target.clone(),
                source,
            });
        }
    }
    cleanup(&olds);
    Ok(targets)
}

/// Puts the files moved aside back under their names.
fn restore(moved: &[usize], targets: &[PathBuf], olds: &[PathBuf]) {
    for &k in moved {
        let _ = fs::rename(&olds[k], &targets[k]);
    }
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
