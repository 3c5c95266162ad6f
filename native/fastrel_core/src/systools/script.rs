// SPDX-License-Identifier: Apache-2.0
//! The boot script term (`generate_script/4` of `systools_make`).

use crate::systools::filename::{erl_absname, erl_join, erl_norm};
use crate::systools::release::{App, Release};
use crate::term::{a, s, t, Term};
use std::path::Path;

/// How paths in the script are written (`path_flag/1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMode {
    /// `$ROOT/lib/Name-Vsn/ebin`, or relative to a matching variable.
    Root,
    /// `local`: absolute directories where the applications were found.
    Local,
    /// `otp_build`: `$ROOT/lib/Name/ebin`.
    OtpBuild,
}

/// Modules the emulator has preloaded, as systools' own list for each release (equal to
/// `erlang:pre_loaded()` on OTP 25 to 29). The NIF caller passes the running VM's list
/// instead; this table serves callers without a VM.
pub fn preloaded(otp_major: u32) -> Vec<&'static str> {
    let mut mods = vec![
        "atomics",
        "counters",
        "erl_init",
        "erl_prim_loader",
        "erl_tracer",
        "erlang",
        "erts_code_purger",
        "erts_dirty_process_signal_handler",
        "erts_internal",
        "erts_literal_area_collector",
        "init",
        "persistent_term",
        "prim_buffer",
        "prim_eval",
        "prim_file",
        "prim_inet",
        "prim_net",
        "prim_socket",
        "prim_zip",
        "socket_registry",
        "zlib",
    ];
    if otp_major >= 27 {
        // Trace sessions (OTP 27) brought a new preloaded module.
        mods.push("erts_trace_cleaner");
    }
    mods.sort();
    mods
}

/// Modules loaded before the kernel starts, in systools' (unsorted) order.
pub const MANDATORY: [&str; 29] = [
    "error_handler",
    "application",
    "application_controller",
    "application_master",
    "code",
    "code_server",
    "erl_eval",
    "erl_lint",
    "erl_parse",
    "error_logger",
    "ets",
    "file",
    "filename",
    "file_server",
    "file_io_server",
    "gen",
    "gen_event",
    "gen_server",
    "heart",
    "kernel",
    "logger",
    "logger_filters",
    "logger_server",
    "logger_backend",
    "logger_config",
    "logger_simple_h",
    "lists",
    "proc_lib",
    "supervisor",
];

/// What `generate_script` needs besides the applications.
pub struct ScriptConfig<'a> {
    pub mode: PathMode,
    /// `{Var, Prefix}` with trailing slashes already removed from the prefix.
    pub variables: &'a [(String, String)],
    pub no_dot_erlang: bool,
    /// The `{preLoaded, ...}` modules, sorted.
    pub preloaded: &'a [String],
    pub cwd: &'a Path,
}

fn split(p: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = Vec::new();
    if p.starts_with('/') {
        parts.push("/");
    }
    parts.extend(p.split('/').filter(|x| !x.is_empty()));
    parts
}

fn join_all(parts: &[&str]) -> String {
    let mut out = String::new();
    for p in parts {
        out = if out.is_empty() { erl_norm(p) } else { erl_join(&out, p) };
    }
    out
}

fn cr_path(app: &App, cfg: &ScriptConfig) -> String {
    let full = format!("{}-{}", app.name, app.vsn);
    match cfg.mode {
        PathMode::Local => erl_absname(&app.dir, cfg.cwd),
        PathMode::OtpBuild => join_all(&["$ROOT", "lib", &app.name, "ebin"]),
        PathMode::Root => {
            for (var, prefix) in cfg.variables {
                if !app.dir.starts_with(prefix.as_str()) {
                    continue;
                }
                let dir_parts = split(&app.dir);
                let skip = split(prefix).len().min(dir_parts.len());
                let mut rest: Vec<&str> = dir_parts[skip..].to_vec();
                let n = rest.len();
                if n >= 2 && rest[n - 1] == "ebin" && (rest[n - 2] == app.name || rest[n - 2] == full) {
                    rest.truncate(n - 2);
                }
                let head = format!("${var}");
                let mut parts = vec![head.as_str()];
                parts.extend(rest);
                parts.push(&full);
                parts.push("ebin");
                return join_all(&parts);
            }
            join_all(&["$ROOT", "lib", &full, "ebin"])
        }
    }
}

fn make_set(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for x in items {
        if !x.is_empty() && !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

fn atoms<S: AsRef<str>>(names: &[S]) -> Term {
    Term::List(names.iter().map(|n| a(n.as_ref())).collect())
}

fn strings(items: &[String]) -> Term {
    Term::List(items.iter().map(|x| s(x)).collect())
}

/// `pack_app/1`: the application spec handed to `application:load/1`.
pub fn pack_app(app: &App) -> Term {
    let mut items = vec![
        t([a("description"), s(&app.description)]),
        t([a("vsn"), s(&app.vsn)]),
        t([a("id"), s(&app.id)]),
        t([a("modules"), atoms(&app.modules)]),
        t([a("registered"), atoms(&app.regs)]),
        t([a("applications"), atoms(&app.uses)]),
        t([a("optional_applications"), atoms(&app.optional)]),
        t([a("included_applications"), atoms(&app.includes)]),
        t([a("env"), app.env.clone()]),
        t([a("maxT"), app.max_t.clone()]),
        t([a("maxP"), app.max_p.clone()]),
    ];
    if let Some(sp) = &app.start_phases {
        items.push(t([a("start_phases"), sp.clone()]));
    }
    if !matches!(&app.mod_, Term::List(l) if l.is_empty()) {
        items.push(t([a("mod"), app.mod_.clone()]));
    }
    t([a("application"), a(&app.name), Term::List(items)])
}

/// Builds `{script, {Name, Vsn}, Instructions}` for applications in start order.
pub fn build(rel: &Release, apps: &[&App], cfg: &ScriptConfig) -> Term {
    let preloaded: Vec<&str> = cfg.preloaded.iter().map(String::as_str).collect();
    let paths: Vec<String> = apps.iter().map(|x| cr_path(x, cfg)).collect();
    let mut ins = Vec::with_capacity(16 + 2 * apps.len() + 2 * apps.len());
    ins.push(t([a("preLoaded"), atoms(&preloaded)]));
    ins.push(t([a("progress"), a("preloaded")]));
    let mandatory_path = make_set(apps.iter().zip(&paths).map(|(x, p)| {
        if x.name == "kernel" || x.name == "stdlib" {
            p.clone()
        } else {
            String::new()
        }
    }));
    ins.push(t([a("path"), strings(&mandatory_path)]));
    ins.push(t([a("primLoad"), atoms(&MANDATORY)]));
    ins.push(t([a("kernel_load_completed")]));
    ins.push(t([a("progress"), a("kernel_load_completed")]));
    let loaded_early: crate::systools::fasthash::FastSet<&str> = MANDATORY.iter().chain(&preloaded).copied().collect();
    for (app, path) in apps.iter().zip(&paths) {
        // Already in atom order (UTF-8 byte order is code point order).
        let mods: Vec<&str> =
            app.sorted_modules.iter().map(|m| m.as_str()).filter(|m| !loaded_early.contains(m)).collect();
        ins.push(t([a("path"), Term::list([s(&erl_norm(path))])]));
        ins.push(t([a("primLoad"), atoms(&mods)]));
    }
    ins.push(t([a("progress"), a("modules_loaded")]));
    ins.push(t([a("path"), strings(&make_set(paths.iter().cloned()))]));
    ins.push(t([a("kernelProcess"), a("heart"), t([a("heart"), a("start"), Term::nil()])]));
    ins.push(t([a("kernelProcess"), a("logger"), t([a("logger_server"), a("start_link"), Term::nil()])]));
    if let Some(kernel) = apps.iter().find(|x| x.name == "kernel") {
        ins.push(t([
            a("kernelProcess"),
            a("application_controller"),
            t([a("application_controller"), a("start"), Term::list([pack_app(kernel)])]),
        ]));
    }
    ins.push(t([a("progress"), a("init_kernel_started")]));
    for app in apps.iter().filter(|x| x.name != "kernel" && x.typ != "none") {
        ins.push(t([a("apply"), t([a("application"), a("load"), Term::list([pack_app(app)])])]));
    }
    ins.push(t([a("progress"), a("applications_loaded")]));
    let included: Vec<&String> = apps.iter().flat_map(|x| &x.includes).collect();
    for app in apps {
        if !included.contains(&&app.name) && app.typ != "none" && app.typ != "load" {
            ins.push(t([a("apply"), t([a("application"), a("start_boot"), Term::list([a(&app.name), a(&app.typ)])])]));
        }
    }
    if !cfg.no_dot_erlang {
        ins.push(t([a("apply"), t([a("c"), a("erlangrc"), Term::nil()])]));
    }
    ins.push(t([a("progress"), a("started")]));
    t([a("script"), t([s(&rel.name), s(&rel.vsn)]), Term::List(ins)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preloaded_is_sorted_and_versioned() {
        assert_eq!(preloaded(25).len(), 21);
        assert_eq!(preloaded(28).len(), 22);
        let p = preloaded(25);
        assert!(p.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn split_keeps_root() {
        assert_eq!(split("/a//b/"), vec!["/", "a", "b"]);
        assert_eq!(join_all(&["$V", "x", "a-1", "ebin"]), "$V/x/a-1/ebin");
    }
}
