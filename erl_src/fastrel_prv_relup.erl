%% SPDX-License-Identifier: Apache-2.0
%% @doc `rebar3 fastrel relup': assemble the release, then write its `releases/VSN/relup'.
-module(fastrel_prv_relup).

-export([init/1, do/1, format_error/1]).

-spec init(term()) -> {ok, term()}.
init(State) ->
    Provider = providers:create(
                 [{name, relup}, {module, ?MODULE}, {namespace, fastrel}, {bare, false},
                  {deps, [{fastrel, release}]},
                  {example, "rebar3 fastrel relup [-n NAME] [-v VSN] [-u UPFROM]"},
                  {short_desc, "Assemble the release and write its relup, for a hot upgrade from an earlier one."},
                  {desc, "Assembles the release (as `rebar3 fastrel release'), then writes releases/VSN/relup, "
                         "up from and down to UPFROM (default: the newest earlier releases/*/NAME.rel in the "
                         "output directory), as `rebar3 relup' does. Changed applications need ebin/APP.appup. "
                         "Then `rebar3 fastrel tar' packs it, and `bin/NAME upgrade VSN' installs it."},
                  {opts, [O || O <- fastrel_rebar:opts(), not lists:member(element(1, O), [all, relnames])] ++ fastrel_rebar:relup_opts()}]),
    {ok, rebar_state:add_provider(State, Provider)}.

-spec do(term()) -> {ok, term()} | {error, term()}.
do(State) -> fastrel_rebar:relup(State).

-spec format_error(term()) -> iolist().
format_error({fastrel_upgrade, _} = R) -> fastrel_upgrade:format_error(R);
format_error(Reason) -> fastrel_release:format_error(Reason).
