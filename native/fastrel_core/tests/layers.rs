// SPDX-License-Identifier: Apache-2.0
//! The crate's layers only look down: the term toolkit (`src/term/`) knows nothing of the
//! systools port, the file-system rules or the NIF entry points, and the systools port
//! does not call the NIF entry points. A module tree does not enforce that by itself;
//! this test does.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push((p.display().to_string(), std::fs::read_to_string(&p).unwrap()));
        }
    }
}

fn assert_no_use_of(layer: &str, above: &[&str]) {
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(layer), &mut files);
    assert!(!files.is_empty(), "no sources under src/{layer}");
    for (file, text) in &files {
        for module in above {
            let path = format!("crate::{module}");
            assert!(!text.contains(&path), "{file} uses {path}: src/{layer} may only look down");
        }
    }
}

#[test]
fn the_term_toolkit_uses_nothing_above_it() {
    assert_no_use_of("term", &["systools", "fs", "api"]);
}

#[test]
fn the_systools_port_does_not_call_the_nif_entry_points() {
    assert_no_use_of("systools", &["api"]);
}
