%% SPDX-License-Identifier: Apache-2.0
%% @doc `rebar3 fastrel appup': appups for the applications whose version changed since the
%% previous release, generated from the code diff by `fastrel_appup:for_releases/3'.
-module(fastrel_prv_appup).

-export([init/1, do/1, format_error/1]).

-spec init(term()) -> {ok, term()}.
init(State) ->
    Provider = providers:create(
                 [{name, appup}, {module, ?MODULE}, {namespace, fastrel}, {bare, false},
                  {deps, [{default, app_discovery}]},
                  {example, "rebar3 fastrel appup [-n NAME] [--previous DIR]"},
                  {short_desc, "Write appups for the applications that changed since the previous release."},
                  {desc, "Compares each application of the assembled release (_build/PROFILE/rel/NAME) "
                         "with its version in the previous release, module by module (beam MD5s), and "
                         "writes APP.appup into the new lib/APP-VSN/ebin: add_module, delete_module, "
                         "load_module, and update for gen_server, gen_statem, gen_event, gen_fsm and "
                         "supervisor modules. The previous release is the older releases/VSN/NAME.rel "
                         "in the same directory (relx keeps it when the new version is built there), "
                         "or --previous DIR: an earlier release directory, or its lib/. An appup "
                         "already there that fastrel did not generate is kept."},
                  {opts, [{relname, $n, "relname", atom, "Release to use (default: the first configured)."},
                          {previous, undefined, "previous", string, "The previous release's directory, or its lib/ (default: the release's own)."},
                          {output_dir, $o, "output-dir", string, "Where releases are (default: _build/PROFILE/rel)."}]}]),
    {ok, rebar_state:add_provider(State, Provider)}.

-spec do(term()) -> {ok, term()} | {error, term()}.
do(State) ->
    {Args, _} = rebar_state:command_parsed_args(State),
    case relname(proplists:get_value(relname, Args), rebar_state:get(State, relx, [])) of
        undefined ->
            {error, {?MODULE, no_release_configured}};
        Name ->
            Out = filename:absname(proplists:get_value(output_dir, Args, filename:join(rebar_dir:base_dir(State), "rel")),
                                   rebar_dir:root_dir(State)),
            New = filename:join(Out, atom_to_list(Name)),
            Old = filename:absname(proplists:get_value(previous, Args, New), rebar_dir:root_dir(State)),
            case fastrel_appup:for_releases(Old, New, Name) of
                {ok, Results} ->
                    [rebar_api:info("~ts", [fastrel_appup:format_result(R)]) || R <- Results],
                    {ok, State};
                {error, fastrel_appup, Reason} ->
                    {error, {?MODULE, Reason}}
            end
    end.

-spec format_error(term()) -> iolist().
format_error(no_release_configured) ->
    "no release is configured in the relx section; name one with -n";
format_error(Reason) ->
    fastrel_appup:format_error(Reason).

%% -n, else relx's default_release, else the first release configured.
relname(Name, _) when is_atom(Name), Name =/= undefined -> Name;
relname(_, Relx) ->
    Names = [N || T <- Relx, element(1, T) =:= release, tuple_size(T) >= 3,
                  {N, _} <- [element(2, T)], is_atom(N)],
    case [D || {default_release, D} <- Relx] ++ Names of
        [{N, _} | _] when is_atom(N) -> N;
        [N | _] when is_atom(N) -> N;
        [] -> undefined
    end.
