%% SPDX-License-Identifier: Apache-2.0
%% @doc The rebar3 plugin: `rebar3 fastrel release', `rebar3 fastrel tar' and
%% `rebar3 fastrel relup'.
%%
%% Install without hex: `{project_plugins, [fastrel]}' with fastrel's source in
%% `_checkouts/fastrel', or `{project_plugins, [{fastrel, {git, "file:///path/to/fastrel",
%% {branch, "main"}}}]}' (see the README).
-module(fastrel).

-export([init/1]).

-spec init(term()) -> {ok, term()}.
init(State0) ->
    {ok, State1} = fastrel_prv_release:init(State0),
    {ok, State2} = fastrel_prv_appup:init(State1),
    {ok, State3} = fastrel_prv_tar:init(State2),
    fastrel_prv_relup:init(State3).
