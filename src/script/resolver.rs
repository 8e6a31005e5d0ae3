//! `import "name" as x;` confined to a few folders.
//!
//! Rhai's `FileModuleResolver` follows absolute paths and `../` anywhere on the disk; a model
//! file from someone else must not read `/etc/passwd`. This resolver looks for `name.rhai` in
//! the model's folder, then `<model folder>/../scripts/`, then `./scripts/`, and refuses any
//! path that leaves those folders, lexically (`../`) or through a symbolic link. The refusal is
//! a run-time error with our own text: Rhai would replace a "module not found" with its own.

use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

/// Script texts read so far, by the name errors use for their file.
pub(crate) type Texts = Rc<RefCell<BTreeMap<String, String>>>;

pub(crate) struct ConfinedResolver {
    /// Allowed folders, absolute and normalised, in search order.
    folders: Vec<PathBuf>,
    cwd: PathBuf,
    texts: Texts,
    /// Modules already evaluated, by canonical path: a module imported twice runs once.
    cache: RefCell<HashMap<PathBuf, Shared<Module>>>,
    /// Modules being evaluated, to refuse an import cycle instead of recursing forever.
    loading: RefCell<Vec<PathBuf>>,
}

impl ConfinedResolver {
    /// Imports for a model in `model_dir`, with `./scripts/` taken under `cwd`.
    pub(crate) fn new(model_dir: &Path, cwd: &Path, texts: Texts) -> Self {
        let model_dir = normalise(&cwd.join(model_dir));
        let folders = vec![
            model_dir.clone(),
            normalise(&model_dir.join("../scripts")),
            normalise(&cwd.join("scripts")),
        ];
        let mut unique: Vec<PathBuf> = Vec::new();
        for f in folders {
            if !unique.contains(&f) {
                unique.push(f);
            }
        }
        ConfinedResolver {
            folders: unique,
            cwd: cwd.to_path_buf(),
            texts,
            cache: RefCell::default(),
            loading: RefCell::default(),
        }
    }

    /// The allowed folders as a message lists them.
    fn folder_list(&self) -> String {
        self.folders
            .iter()
            .map(|f| format!("{}/", self.display(f)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// How errors name a file: relative to the current directory when under it.
    fn display(&self, path: &Path) -> String {
        let rel = path
            .strip_prefix(&self.cwd)
            .ok()
            .filter(|r| !r.as_os_str().is_empty());
        rel.unwrap_or(path).display().to_string()
    }

    fn inside(&self, path: &Path) -> bool {
        self.folders.iter().any(|f| path.starts_with(f))
    }

    /// Also true when a symbolic link leads out of the folders.
    fn inside_canonical(&self, canonical: &Path) -> bool {
        self.folders
            .iter()
            .filter_map(|f| f.canonicalize().ok())
            .any(|f| canonical.starts_with(f))
    }

    /// Finds the file an import names, or says why it may not or cannot be loaded.
    fn locate(&self, import: &str) -> Result<PathBuf, String> {
        let outside = || {
            format!(
                "import `{import}` is outside the allowed folders: {}",
                self.folder_list()
            )
        };
        let rel = Path::new(import);
        if rel.has_root() || rel.is_absolute() {
            return Err(outside());
        }
        let file = if rel.extension().is_some_and(|e| e == "rhai") {
            rel.to_path_buf()
        } else {
            rel.with_extension("rhai")
        };
        let mut escaped = false;
        for folder in &self.folders {
            let candidate = normalise(&folder.join(&file));
            if !self.inside(&candidate) {
                escaped = true;
                continue;
            }
            let Ok(canonical) = candidate.canonicalize() else {
                continue;
            };
            if !self.inside_canonical(&canonical) {
                escaped = true;
                continue;
            }
            return Ok(canonical);
        }
        if escaped {
            return Err(outside());
        }
        Err(format!(
            "import `{import}`: no {} in the allowed folders: {}",
            file.display(),
            self.folder_list()
        ))
    }

    /// Reads, compiles and evaluates a module; its errors are wrapped so they name its file.
    fn load(
        &self,
        engine: &Engine,
        path: &Path,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let name = self.display(path);
        let in_module = |err: Box<EvalAltResult>| {
            Box::new(EvalAltResult::ErrorInModule(name.clone(), err, pos))
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| runtime(format!("cannot read module {name}: {e}"), pos))?;
        self.texts.borrow_mut().insert(name.clone(), text.clone());
        let mut ast = engine.compile(&text).map_err(|e| in_module(e.into()))?;
        ast.set_source(name.as_str());
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(in_module)?;
        Ok(Shared::new(module))
    }

    /// The refusal of an import that would close a cycle: it names the module imported, the
    /// module importing it and the chain of imports between them.
    fn cycle(&self, import: &str, importer: Option<&str>, file: &Path) -> String {
        let loading = self.loading.borrow();
        let start = loading.iter().position(|p| p == file).unwrap_or(0);
        let mut chain: Vec<String> = loading[start..].iter().map(|p| self.display(p)).collect();
        let imported = self.display(file);
        chain.push(imported.clone());
        let importer = importer.map_or_else(
            || loading.last().map_or(imported.clone(), |p| self.display(p)),
            str::to_string,
        );
        format!(
            "import `{import}` is a cycle: {importer} imports {imported}, which is still being \
             loaded ({}); move what both need into a third module",
            chain.join(" -> ")
        )
    }
}

impl ModuleResolver for ConfinedResolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let file = self.locate(path).map_err(|m| runtime(m, pos))?;
        if let Some(m) = self.cache.borrow().get(&file) {
            return Ok(m.clone());
        }
        if self.loading.borrow().contains(&file) {
            return Err(runtime(self.cycle(path, source, &file), pos));
        }
        self.loading.borrow_mut().push(file.clone());
        let loaded = self.load(engine, &file, pos);
        self.loading.borrow_mut().pop();
        let module = loaded?;
        self.cache.borrow_mut().insert(file, module.clone());
        Ok(module)
    }
}

fn runtime(message: String, pos: Position) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(message.into(), pos))
}

/// Resolves `.` and `..` without touching the file system (the file may not exist).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_removes_dots_lexically() {
        assert_eq!(
            normalise(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
        assert_eq!(normalise(Path::new("/a/../../etc")), PathBuf::from("/etc"));
    }
}
