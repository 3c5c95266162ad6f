%% SPDX-License-Identifier: Apache-2.0
%% @doc `rebar3 fastrel tar': pack the release `rebar3 fastrel release' assembled.
-module(fastrel_prv_tar).

-export([init/1, do/1, format_error/1]).

-spec init(term()) -> {ok, term()}.
init(State) ->
    Provider = providers:create(
                 [{name, tar}, {module, ?MODULE}, {namespace, fastrel}, {bare, false},
                  {deps, [{fastrel, release}]},
                  {example, "rebar3 fastrel tar [-n NAME ... | --all | -m NAME,NAME] [--reproducible] [--compression-level N]"},
                  {short_desc, "Pack the assembled release into NAME-VSN.tar.gz, compressed on every core."},
                  {desc, "Assembles the release (as `rebar3 fastrel release') and packs that directory with "
                         "relnif:make_tar: the entries of `rebar3 tar', written in one pass, gzip on every core. "
                         "--reproducible (or SOURCE_DATE_EPOCH) gives the same bytes on every run."},
                  {opts, fastrel_rebar:opts() ++ fastrel_rebar:tar_opts()}]),
    {ok, rebar_state:add_provider(State, Provider)}.

-spec do(term()) -> {ok, term()} | {error, term()}.
do(State) -> fastrel_rebar:tar(State).

-spec format_error(term()) -> iolist().
format_error(Reason) -> fastrel_release:format_error(Reason).
