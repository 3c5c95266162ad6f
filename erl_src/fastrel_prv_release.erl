%% SPDX-License-Identifier: Apache-2.0
%% @doc `rebar3 fastrel release': assemble the release the relx configuration describes.
-module(fastrel_prv_release).

-export([init/1, do/1, format_error/1]).

-spec init(term()) -> {ok, term()}.
init(State) ->
    Provider = providers:create(
                 [{name, release}, {module, ?MODULE}, {namespace, fastrel}, {bare, false},
                  {deps, [{default, compile}]},
                  {example, "rebar3 fastrel release [-n NAME ... | --all | -m NAME,NAME] [-o DIR]"},
                  {short_desc, "Assemble a release from the relx configuration, with fastrel's start script, heart and run_erl."},
                  {desc, "Reads the {relx, [...]} section of rebar.config (or relx.config), as `rebar3 release' does, "
                         "and assembles the release in relx's layout under _build/PROFILE/rel/NAME. Boot files are made "
                         "by relnif:make_script; bin/NAME is fastrel's start script, and fastrel's heart, run_erl and "
                         "to_erl are bundled (fastrel/bin, and in erts-VSN/bin with include_erts). "
                         "Unsupported relx keys are reported by name. --all (or several -n, or -m a,b) builds several "
                         "releases in parallel, the applications copied once."},
                  {opts, fastrel_rebar:opts()}]),
    {ok, rebar_state:add_provider(State, Provider)}.

-spec do(term()) -> {ok, term()} | {error, term()}.
do(State) -> fastrel_rebar:release(State).

-spec format_error(term()) -> iolist().
format_error(Reason) -> fastrel_release:format_error(Reason).
