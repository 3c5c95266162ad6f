%% SPDX-License-Identifier: Apache-2.0
%% @doc What the `fastrel_prv_*' providers share: reading rebar3's state into the plain
%% terms `fastrel_release' takes, and reporting in rebar3's style.
-module(fastrel_rebar).

-export([opts/0, tar_opts/0, relup_opts/0, release/1, tar/1, relup/1]).

-spec opts() -> [tuple()].
opts() ->
    [{relname, $n, "relname", atom, "Release to build (default: the first configured); several -n build several."},
     {all, undefined, "all", boolean, "Build every release configured (the highest version of each name), in parallel."},
     {relnames, $m, "relnames", string, "Comma-separated releases to build, in parallel."},
     {output_dir, $o, "output-dir", string, "Where releases go (default: _build/PROFILE/rel)."},
     {follow_symlinks_outside, undefined, "follow-symlinks-outside", boolean,
      "Copy and pack the targets of symlinks that point out of the directory they are in (refused by default)."}].

-spec tar_opts() -> [tuple()].
tar_opts() ->
    [{reproducible, undefined, "reproducible", boolean, "Sorted entries, fixed mtime (SOURCE_DATE_EPOCH or 0), owner 0/0."},
     {compression_level, undefined, "compression-level", integer, "gzip level 0..9 (default 6, as systools)."}].

-spec relup_opts() -> [tuple()].
relup_opts() ->
    [{relvsn, $v, "relvsn", string, "Version to upgrade to (default: the one just assembled)."},
     {upfrom, $u, "upfrom", string, "Version to upgrade from (default: the newest earlier one in the output directory)."}].

%% One release (-n NAME, or the default one), or several (--all, --relnames a,b, or -n
%% given more than once), built in parallel.
-spec release(term()) -> {ok, term()} | {error, term()}.
release(State) ->
    Result = case config(State) of
                 {ok, Config} ->
                     case wanted(State) of
                         one -> case fastrel_release:assemble(Config, env(State)) of
                                    {ok, R} -> {ok, [R]};
                                    Err -> Err
                                end;
                         Names -> fastrel_release:assemble_many(Config, env(State), Names)
                     end;
                 {error, _} = ConfigErr -> ConfigErr
             end,
    case Result of
        {ok, Rs} ->
            [rebar_api:info("Release successfully assembled: ~ts", [maps:get(dir, R)]) || R <- Rs],
            {ok, rebar_state:set(rebar_state:set(State, fastrel_release, hd(Rs)), fastrel_releases, Rs)};
        {error, {fastrel_release, _} = E} -> {error, {fastrel_prv_release, E}}
    end.

wanted(State) ->
    {Args, _} = rebar_state:command_parsed_args(State),
    Named = [N || {relname, N} <- Args],
    case {proplists:get_value(all, Args, false), proplists:get_value(relnames, Args)} of
        {true, _} -> all;
        {_, Names} when is_list(Names) -> [list_to_atom(N) || N <- string:lexemes(Names, ", ")] ++ Named;
        _ when length(Named) > 1 -> Named;
        _ -> one
    end.

-spec tar(term()) -> {ok, term()} | {error, term()}.
tar(State) ->
    Rs = rebar_state:get(State, fastrel_releases),
    {Args, _} = rebar_state:command_parsed_args(State),
    Extra = [{reproducible, true} || proplists:get_value(reproducible, Args, false)]
            ++ [{compression_level, L} || L <- [proplists:get_value(compression_level, Args)], is_integer(L)],
    Result = case Rs of
                 [R] -> case fastrel_release:tar(R, Extra) of {ok, T} -> {ok, [T]}; Err -> Err end;
                 _ -> fastrel_release:tar_many(Rs, Extra)
             end,
    case Result of
        {ok, Tars} ->
            [rebar_api:info("Tarball successfully created: ~ts", [Tar]) || Tar <- Tars],
            {ok, State};
        {error, E} -> {error, {fastrel_prv_tar, E}}
    end.

-spec relup(term()) -> {ok, term()} | {error, term()}.
relup(State) ->
    #{dir := Dir, name := Name, vsn := Built} = rebar_state:get(State, fastrel_release),
    {Args, _} = rebar_state:command_parsed_args(State),
    Opts = #{dir => Dir, name => Name, vsn => proplists:get_value(relvsn, Args, Built),
             upfrom => proplists:get_value(upfrom, Args), log => fun(F, A) -> rebar_api:info(F, A) end},
    case fastrel_upgrade:relup(Opts) of
        {ok, #{relup := Relup}} ->
            rebar_api:info("Relup successfully created: ~ts", [Relup]),
            {ok, State};
        {error, E} -> {error, {fastrel_prv_relup, E}}
    end.

%% The relx section, or relx.config when it is empty (rebar3's rule); the prod profile
%% means `{mode, prod}' first, as rebar3 adds it. relx.config is the user's text: read by
%% the bounded reader, and a broken one is an error naming it, not an empty configuration.
config(State) ->
    Relx = case rebar_state:get(State, relx, []) of
               [] ->
                   File = filename:join(rebar_dir:root_dir(State), "relx.config"),
                   case relnif:consult(File) of
                       {ok, Terms} -> {ok, Terms};
                       {error, enoent} -> {ok, []};
                       {error, E} -> {error, {fastrel_release, {relx_config, File, E}}}
                   end;
               C -> {ok, C}
           end,
    case {Relx, lists:member(prod, rebar_state:current_profiles(State))} of
        {{ok, R}, true} -> {ok, [{mode, prod} | R]};
        _ -> Relx
    end.

env(State) ->
    {Args, _} = rebar_state:command_parsed_args(State),
    Base = rebar_dir:base_dir(State),
    Apps = [{binary_to_atom(rebar_app_info:name(A)), rebar_app_info:out_dir(A)}
            || A <- rebar_state:project_apps(State) ++ rebar_state:all_deps(State)],
    Profile = lists:join("+", [atom_to_list(P) || P <- rebar_state:current_profiles(State)]),
    #{apps => Apps,
      output_dir => proplists:get_value(output_dir, Args, filename:join(Base, "rel")),
      root_dir => rebar_dir:root_dir(State),
      relname => proplists:get_value(relname, Args),
      follow_symlinks => case proplists:get_value(follow_symlinks_outside, Args, false) of true -> outside; _ -> inside end,
      overlay_vars_values => [{profile_string, lists:flatten(Profile)}, {base_dir, Base}],
      log => fun(F, A) -> rebar_api:info(F, A) end}.
