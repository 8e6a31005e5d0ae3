//! `m.station`, `m.app`, `m.proxy`, `m.database`, `m.cache`, `m.external`, `m.background`:
//! each reads its options map, builds the spec through its validating constructor and returns a
//! handle that later steps use to name the resource. The options are kept, so that a
//! variant's `m.change(resource, #{ … })` rebuilds the resource from them through the same
//! constructor ([`change`]).

use super::builder::ModelHandle;
use super::values::{Handle, Kind, Opts, Res, for_item, handle, msg};
use crate::model::*;
use rhai::{Dynamic, Engine, NativeCallContext};

/// Builds one resource kind from its options; errors are prefixed with the item by the caller.
type Build = fn(&Opts) -> Result<ResourceKind, String>;

/// Per resource kind: its method name, its handle kind, its option keys and its builder.
const RESOURCES: [(&str, Kind, &[&str], Build); 7] = [
    (
        "station",
        Kind::Station,
        &["servers", "queue", "service"],
        station,
    ),
    (
        "app",
        Kind::App,
        &[
            "instances",
            "workers",
            "cpus",
            "backlog",
            "mode",
            "scheduling",
            "pool",
            "memory",
        ],
        app,
    ),
    (
        "proxy",
        Kind::Proxy,
        &["upstream", "policy", "connections", "workers", "service"],
        proxy,
    ),
    (
        "database",
        Kind::Database,
        &[
            "replicas",
            "connections",
            "queue",
            "read_policy",
            "data_size",
        ],
        database,
    ),
    ("cache", Kind::Cache, &["servers", "service"], cache),
    (
        "external",
        Kind::External,
        &["delay", "limit", "queue"],
        external,
    ),
    (
        "background",
        Kind::Background,
        &["workers", "queue"],
        background,
    ),
];

pub(crate) fn register(engine: &mut Engine) {
    engine.register_type_with_name::<Handle>("Resource");
    engine.register_fn("to_string", |h: &mut Handle| h.to_string());
    engine.register_fn("to_debug", |h: &mut Handle| h.to_string());
    for (method, kind, keys, build) in RESOURCES {
        let func = format!("m.{method}");
        let add = move |ctx: NativeCallContext, m: &mut ModelHandle, name: Dynamic, opts: &Opts| {
            declare(&ctx, m, kind, &name, opts, build)
        };
        engine.register_fn(
            method,
            move |ctx: NativeCallContext, m: &mut ModelHandle, name: Dynamic, o: Dynamic| {
                let opts = Opts::new(&o, &func, keys)?;
                add(ctx, m, name, &opts)
            },
        );
        engine.register_fn(
            method,
            move |ctx: NativeCallContext, m: &mut ModelHandle, name: Dynamic| {
                add(ctx, m, name, &Opts::empty())
            },
        );
    }
}

/// Builds a resource, adds it to the model with its origin and returns its handle.
fn declare(
    ctx: &NativeCallContext,
    m: &ModelHandle,
    kind: Kind,
    name: &Dynamic,
    opts: &Opts,
    build: Build,
) -> Res<Dynamic> {
    let name = super::values::name(name, &format!("{} name", kind.word()))?;
    let item = format!("{} `{name}`", kind.word());
    let spec = for_item(&item, build(opts))?;
    let origin = Some(m.origin(ctx));
    let r = Resource {
        name: name.clone(),
        kind: spec,
        origin,
    };
    for_item(&item, m.add_resource(r))?;
    m.edit()?.declared.insert(name.clone(), opts.map().clone());
    Ok(Handle { kind, name }.into_dynamic())
}

/// `m.change(resource, #{ … })` in a variant: rebuilds the resource from its declared options
/// overridden by these (an option's new value replaces the old one whole, a nested map
/// included), through its kind's validating constructor. The resource then has the origin of
/// this call.
pub(crate) fn change(
    ctx: &NativeCallContext,
    m: &ModelHandle,
    h: &Dynamic,
    o: &Dynamic,
) -> Res<()> {
    let Some(h) = Handle::from_dynamic(h) else {
        let got = super::values::kind(h);
        return Err(format!("`m.change` needs a resource handle, got {got}").into());
    };
    let (method, _, keys, build) = RESOURCES
        .into_iter()
        .find(|r| r.1 == h.kind)
        .expect("every kind has its row");
    let changes = Opts::new(o, &format!("m.change of {h} (as m.{method})"), keys)?;
    let at = m.origin(ctx);
    let mut b = m.edit_variant("m.change")?;
    let mut merged = b.declared.get(&h.name).cloned().unwrap_or_default();
    merged.extend(changes.map().clone());
    let kind = for_item(&h.to_string(), build(&Opts::from_map(merged.clone())))?;
    let r = b.model.resources.iter_mut().find(|r| r.name == h.name);
    let r = r.ok_or_else(|| format!("{h} is not in this model"))?;
    r.kind = kind;
    r.origin = Some(at);
    b.declared.insert(h.name, merged);
    Ok(())
}

fn station(o: &Opts) -> Result<ResourceKind, String> {
    let spec = StationSpec::new(
        o.count("servers", 1)?,
        o.opt_count("queue")?,
        o.dist("service")?,
    );
    Ok(ResourceKind::Station(spec.map_err(msg)?))
}

fn app(o: &Opts) -> Result<ResourceKind, String> {
    let mode = WorkerMode::parse(&o.text_or("mode", "sync")?).map_err(msg)?;
    let pool = o.get("pool").map(pool).transpose()?;
    let memory = o.get("memory").map(memory).transpose()?;
    let (instances, workers, cpus) = (
        o.count("instances", 1)?,
        o.count("workers", 1)?,
        o.count("cpus", 1)?,
    );
    let spec = AppSpec::new(
        instances,
        workers,
        o.opt_count("backlog")?,
        cpus,
        mode,
        pool,
        memory,
    );
    let mut spec = spec.map_err(msg)?;
    spec.scheduling =
        CoreScheduling::parse(&o.text_or("scheduling", "processor_sharing")?).map_err(msg)?;
    Ok(ResourceKind::App(spec))
}

fn pool(v: &Dynamic) -> Result<PoolSpec, String> {
    let o = Opts::new(v, "the app's pool", &["size", "timeout", "scope"])?;
    let size = Opts::required(o.opt_count("size")?, "size", "10")?;
    let scope = PoolScope::parse(&o.text_or("scope", "request")?).map_err(msg)?;
    PoolSpec::new(size, o.duration("timeout")?, scope).map_err(msg)
}

fn memory(v: &Dynamic) -> Result<MemorySpec, String> {
    let o = Opts::new(
        v,
        "the app's memory",
        &["ram_mb", "base_mb", "per_worker_mb", "per_request_mb"],
    )?;
    let ram = Opts::required(o.number("ram_mb")?, "ram_mb", "2048")?;
    let or0 = |k: &str| Ok::<f64, String>(o.number(k)?.unwrap_or(0.0));
    MemorySpec::new(
        ram,
        or0("base_mb")?,
        or0("per_worker_mb")?,
        or0("per_request_mb")?,
    )
    .map_err(msg)
}

fn proxy(o: &Opts) -> Result<ResourceKind, String> {
    let upstream = Opts::required(o.get("upstream"), "upstream", "api (an app handle)")?;
    let upstream = handle(upstream, Kind::App, "upstream")?;
    let policy = Policy::parse(&o.text_or("policy", "round_robin")?).map_err(msg)?;
    let service = o.dist_or_zero("service")?;
    let spec = ProxySpec::new(
        upstream,
        policy,
        o.opt_count("connections")?,
        o.count("workers", 1)?,
        service,
    );
    Ok(ResourceKind::Proxy(spec.map_err(msg)?))
}

fn database(o: &Opts) -> Result<ResourceKind, String> {
    let policy = Policy::parse(&o.text_or("read_policy", "round_robin")?).map_err(msg)?;
    let spec = DatabaseSpec::new(
        o.count("replicas", 0)?,
        o.count("connections", 10)?,
        o.opt_count("queue")?,
        policy,
    );
    let mut spec = spec.map_err(msg)?;
    if let Some(b) = o.bytes("data_size")? {
        spec = spec.with_data_size(b).map_err(msg)?;
    }
    Ok(ResourceKind::Database(spec))
}

fn cache(o: &Opts) -> Result<ResourceKind, String> {
    let service = Opts::required(o.dist("service")?, "service", "ms(1)")?;
    Ok(ResourceKind::Cache(
        CacheSpec::new(o.count("servers", 1)?, service).map_err(msg)?,
    ))
}

fn external(o: &Opts) -> Result<ResourceKind, String> {
    let delay = Opts::required(o.dist("delay")?, "delay", "lognormal_p(ms(80), ms(300))")?;
    let spec = ExternalSpec::new(delay, o.opt_count("limit")?, o.opt_count("queue")?);
    Ok(ResourceKind::External(spec.map_err(msg)?))
}

fn background(o: &Opts) -> Result<ResourceKind, String> {
    let spec = BackgroundSpec::new(o.count("workers", 1)?, o.opt_count("queue")?);
    Ok(ResourceKind::Background(spec.map_err(msg)?))
}
