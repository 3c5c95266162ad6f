# SPDX-License-Identifier: Apache-2.0
# Sourced by the benchmarks that run rebar3 on the example: makes $1 a rebar3 project with
# the example server's sources, fastrel as a _checkouts plugin (its Rust parts copied, not
# rebuilt) and a relx release of example_server + sasl with a bundled ERTS.
example_project() {
    rm -rf "$1"; mkdir -p "$1/_checkouts" "$1/src" "$1/config"
    ln -s "$ROOT" "$1/_checkouts/fastrel"
    cp "$ROOT"/examples/example_server/src/* "$1/src/"
    cat > "$1/rebar.config" <<'CFG'
{project_plugins, [fastrel]}.
{relx, [{release, {example_server, "1.0.0"}, [example_server, sasl]},
        {include_erts, true}, {extended_start_script, true}]}.
CFG
    export FASTREL_PREBUILT="$ROOT/priv" REBAR_OFFLINE=1
}
