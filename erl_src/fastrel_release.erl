%% SPDX-License-Identifier: Apache-2.0
%% @doc Assembles a release from a relx configuration (the `{relx, [...]}' section of
%% rebar.config, or relx.config) into relx's layout, and packs it with `relnif:make_tar'.
%%
%% The layout is relx's (`bin/', `releases/VSN/', `releases/RELEASES',
%% `releases/start_erl.data', `lib/APP-VSN/', `erts-VSN/'), so deploy tooling and
%% `release_handler' keep working. What differs: the start script is fastrel's, and
%% fastrel's heart, run_erl and to_erl are in place of OTP's in a bundled `erts-VSN/bin/',
%% or without one in `fastrel/bin/', so daemons run on them even then.
%%
%% No rebar3 module is used here: the providers (`fastrel_prv_*') hand over the
%% applications rebar3 built, and everything else comes from the configuration.
-module(fastrel_release).

-export([assemble/2, assemble_many/3, tar/2, tar_many/2, format_error/1, supported_keys/0]).

-include_lib("kernel/include/file.hrl").
-include("fastrel_config.hrl").

%% Whether copies follow symlinks out of the tree they are in (`outside') or refuse them.
-define(FOLLOW, {?MODULE, follow_symlinks}).

-type env() :: #{apps := [{atom(), file:filename()}],
                 output_dir := file:filename(),
                 root_dir := file:filename(),
                 relname => atom() | undefined,
                 overlay_vars_values => [{atom(), term()}],
                 follow_symlinks => inside | outside,
                 log => fun((string(), list()) -> ok)}.
-type release() :: #{name := atom(), vsn := string(), dir := file:filename(),
                     erts_vsn := string(), include_erts := boolean(), system_libs := boolean(),
                     include_src := boolean(), overlay_targets := [string()],
                     follow_symlinks => inside | outside,
                     %% The mtime of everything in a reproducible release, else false.
                     reproducible => non_neg_integer() | false}.
-export_type([env/0, release/0]).

%% @doc The relx keys this assembler understands.
-spec supported_keys() -> [atom()].
supported_keys() -> fastrel_config:known_keys().

%% @doc Builds the release `Env' asks for (or the first one configured) under
%% `output_dir/NAME'. Returns it, with the unsupported keys found (already logged).
-spec assemble([term()], env()) -> {ok, release()} | {error, {?MODULE, term()}}.
assemble(Config, Env) ->
    case fastrel_config:load(Config, maps:get(relname, Env, undefined)) of
        {ok, C} ->
            try
                report_unknown(C, Env),
                build_one(C, app_index(Env, C), Env, none)
            catch
                throw:Reason -> {error, {?MODULE, Reason}}
            end;
        {error, E} -> {error, {?MODULE, E}}
    end.

%% @doc Builds several releases (`all': every name configured) as `assemble/2' builds
%% one, at most one per scheduler at a time. What they share is done once: the index of
%% the applications found (every `.app' read once) and each application's copy (stripped
%% once; the other releases copy the result). Every release is tried; if some fail, the
%% error names each with its reason, and the others' directories are complete.
-spec assemble_many([term()], env(), [atom()] | all) -> {ok, [release()]} | {error, {?MODULE, term()}}.
assemble_many(Config, Env, all) ->
    case fastrel_config:release_names(Config) of
        {ok, Names} -> assemble_many(Config, Env, Names);
        {error, E} -> {error, {?MODULE, E}}
    end;
assemble_many(Config, Env, Names) ->
    Loaded = [fastrel_config:load(Config, N) || N <- dedup(Names)],
    case [E || {error, E} <- Loaded] of
        [E | _] -> {error, {?MODULE, E}};
        [] ->
            Cs = [C || {ok, C} <- Loaded],
            try
                %% The unknown keys are the same for all: reported once.
                [report_unknown(C, Env) || C <- lists:sublist(Cs, 1)],
                Indexes = lists:foldl(fun(#relx{lib_dirs = L} = C, Acc) when not is_map_key(L, Acc) -> Acc#{L => app_index(Env, C)};
                                         (_, Acc) -> Acc
                                      end, #{}, Cs),
                Cache = spawn_link(fun() -> cache(#{}) end),
                Results = try parallel([fun() -> build_one(C, maps:get(C#relx.lib_dirs, Indexes), Env, Cache) end || C <- Cs])
                          after unlink(Cache), exit(Cache, kill)
                          end,
                case [{C#relx.name, R} || {C, {error, R}} <- lists:zip(Cs, Results)] of
                    [] -> {ok, [R || {ok, R} <- Results]};
                    Failed -> {error, {?MODULE, {releases_failed, Failed}}}
                end
            catch
                throw:Reason -> {error, {?MODULE, Reason}}
            end
    end.

dedup(Names) -> lists:foldl(fun(N, Acc) -> Acc ++ [N || not lists:member(N, Acc)] end, [], Names).

report_unknown(#relx{unknown = Unknown, warnings_as_errors = WaE}, Env) ->
    [log(Env, "Unsupported relx keys (ignored): ~ts", [names(Unknown)]) || Unknown =/= []],
    case {WaE, Unknown} of
        {true, [_ | _]} -> throw({unsupported_keys, Unknown});
        _ -> ok
    end.

build_one(#relx{name = Name, vsn = Vsn, goals = Goals} = C, Index, Env, Cache) ->
    Apps = resolve(Goals, Index, C),
    build(Name, resolve_vsn(Vsn, Env), Apps, C, Env, Cache).

%% Funs run in processes of their own, at most one per scheduler at a time; their
%% results ({ok, _}, or {error, Reason} for a throw or a crash) in order.
parallel(Funs) ->
    Max = max(1, erlang:system_info(schedulers_online)),
    parallel(lists:enumerate(Funs), #{}, #{}, Max).

parallel([], Running, Done, _) when map_size(Running) =:= 0 ->
    [V || {_, V} <- lists:sort(maps:to_list(Done))];
parallel([{I, F} | T], Running, Done, Max) when map_size(Running) < Max ->
    Self = self(),
    {Pid, Ref} = spawn_monitor(fun() ->
                                       Result = try F() catch throw:R -> {error, R} end,
                                       Self ! {self(), Result}
                               end),
    parallel(T, Running#{Pid => {I, Ref}}, Done, Max);
parallel(Queue, Running, Done, Max) ->
    receive
        {Pid, Result} when is_map_key(Pid, Running) ->
            {I, Ref} = maps:get(Pid, Running),
            erlang:demonitor(Ref, [flush]),
            parallel(Queue, maps:remove(Pid, Running), Done#{I => Result}, Max);
        {'DOWN', _, process, Pid, Why} when is_map_key(Pid, Running) ->
            {I, _} = maps:get(Pid, Running),
            parallel(Queue, maps:remove(Pid, Running), Done#{I => {error, {crashed, Why}}}, Max)
    end.

%% Which release copies an application first, and where the others find its copy: the
%% first to ask copies it and says `done'; who asks meanwhile waits for that; who asks
%% after copies the copy. When the copying release dies first, its waiters ask again.
cache(Apps) ->
    receive
        {get, From, Key} ->
            case maps:get(Key, Apps, undefined) of
                undefined ->
                    _ = monitor(process, From),
                    From ! {cache, Key, build},
                    cache(Apps#{Key => {building, From, []}});
                {done, Path} ->
                    From ! {cache, Key, {copy, Path}},
                    cache(Apps);
                {building, B, Ws} -> cache(Apps#{Key => {building, B, [From | Ws]}})
            end;
        {done, Key, Path} ->
            {building, _, Ws} = maps:get(Key, Apps),
            [W ! {cache, Key, {copy, Path}} || W <- Ws],
            cache(Apps#{Key => {done, Path}});
        {'DOWN', _, process, Pid, _} ->
            Lost = [{K, Ws} || {K, {building, B, Ws}} <- maps:to_list(Apps), B =:= Pid],
            [W ! {cache, K, retry} || {K, Ws} <- Lost, W <- Ws],
            cache(maps:without([K || {K, _} <- Lost], Apps))
    end.

%% An application's copy in the release: made by `Copy' (and stripped), or copied from
%% another release's lib/ that made it with the same settings.
shared_copy(none, _, _, Copy) -> Copy();
shared_copy(Cache, Key, Dst, Copy) ->
    Cache ! {get, self(), Key},
    receive
        {cache, Key, build} -> Copy(), Cache ! {done, Key, Dst}, ok;
        {cache, Key, {copy, From}} -> _ = del(Dst), copy_tree(From, Dst, []);
        {cache, Key, retry} -> shared_copy(Cache, Key, Dst, Copy)
    end.

%%% ---------------------------------------------------------------- configuration

%% relx's version forms; a failed command gives "0.0.0", as relx does.
resolve_vsn(V, _) when is_list(V), V =/= "git", V =/= "semver" -> V;
resolve_vsn(V, Env) when V =:= git; V =:= "git"; V =:= semver; V =:= "semver"; element(1, V) =:= semver ->
    case cmd(Env, "git describe --abbrev=0 --tags") of
        {ok, Tag} ->
            Base = string:trim(string:trim(Tag), leading, "v"),
            case cmd(Env, "git rev-list " ++ string:trim(Tag) ++ "..HEAD --count") of
                {ok, N} when N =/= "0" ->
                    {ok, Ref} = cmd(Env, "git rev-parse --short HEAD"),
                    Base ++ "+build." ++ N ++ ".ref" ++ Ref;
                _ -> Base
            end;
        error -> "0.0.0"
    end;
resolve_vsn({git, short}, Env) -> or_zero(cmd(Env, "git rev-parse --short HEAD"));
resolve_vsn({git, long}, Env) -> or_zero(cmd(Env, "git rev-parse HEAD"));
resolve_vsn({file, F}, #{root_dir := R}) ->
    case file:read_file(filename:absname(F, R)) of
        {ok, B} -> string:trim(binary_to_list(B));
        _ -> "0.0.0"
    end;
resolve_vsn({cmd, C}, Env) -> or_zero(cmd(Env, C));
resolve_vsn(V, _) -> throw({bad_release_vsn, V}).

or_zero({ok, V}) -> V;
or_zero(error) -> "0.0.0".

cmd(#{root_dir := R}, C) ->
    Port = open_port({spawn, C}, [{cd, R}, exit_status, stderr_to_stdout, binary]),
    collect(Port, <<>>).

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, <<Acc/binary, D/binary>>);
        {Port, {exit_status, 0}} -> {ok, string:trim(binary_to_list(Acc))};
        {Port, {exit_status, _}} -> error
    end.

%%% ---------------------------------------------------------------- applications

%% Name => {Vsn, Dir, AppTerm, System}: rebar3's applications first, then lib_dirs, then
%% this OTP's.
app_index(#{apps := Apps, root_dir := Root}, C) ->
    Project = [Dir || {_, Dir} <- Apps],
    LibDirs = lists:append([filelib:wildcard(filename:join([filename:absname(D, Root), "*"])) ++
                            [filename:absname(D, Root)] || D <- C#relx.lib_dirs]),
    Otp = filelib:wildcard(filename:join(code:lib_dir(), "*")),
    lists:foldl(fun({Dir, System}, Acc) ->
                        case read_app(Dir) of
                            {ok, Name, Term} when not is_map_key(Name, Acc) ->
                                Acc#{Name => {vsn(Term), Dir, Term, System}};
                            _ -> Acc
                        end
                end, #{}, [{D, false} || D <- Project ++ LibDirs] ++ [{D, true} || D <- Otp]).

read_app(Dir) ->
    case [filename:join([Dir, "ebin", F]) || F <- filelib:wildcard("*.app", filename:join(Dir, "ebin"))] of
        [File] ->
            case relnif:consult(File) of
                {ok, [{application, Name, Props} = T]} when is_atom(Name), is_list(Props) -> {ok, Name, T};
                {ok, _} -> throw({bad_app_file, File});
                {error, E} -> throw({bad_app_file, File, E})
            end;
        _ -> none
    end.

vsn({application, _, Props}) -> proplists:get_value(vsn, Props, "0").

deps({application, _, Props}) ->
    {proplists:get_value(applications, Props, []) ++ proplists:get_value(included_applications, Props, []),
     proplists:get_value(optional_applications, Props, [])}.

%% Goals in order, each after its dependencies (relx's resolution order), excluded apps
%% dropped. Returns [{Name, Vsn, Dir, AppTerm, System, TypeOrIncls}].
resolve(Goals, Index, #relx{exclude_apps = Excluded}) ->
    Parsed = [goal(G) || G <- Goals],
    check_goal_vsns(Goals, Index),
    Start = visit(kernel, Index, Excluded, visit(stdlib, Index, Excluded, {[], #{}}, []), []),
    {Order, _} = lists:foldl(fun({Name, _}, Acc) -> visit(Name, Index, Excluded, Acc, []) end, Start, Parsed),
    Ordered = [kernel, stdlib] ++ ([N || N <- lists:reverse(Order), N =/= kernel, N =/= stdlib]),
    %% The first goal naming each application gives its type and included applications.
    Extras = lists:foldl(fun({N, X}, Acc) when not is_map_key(N, Acc) -> Acc#{N => X};
                            (_, Acc) -> Acc
                         end, #{}, Parsed),
    [begin
         {Vsn, Dir, Term, Sys} = maps:get(N, Index),
         {N, Vsn, Dir, Term, Sys, maps:get(N, Extras, [])}
     end || N <- Ordered, not lists:member(N, Excluded)].

%% Acc is {Order, Seen}: the names in reverse order, and the same as a set.
visit(Name, Index, Excluded, {_, Seen} = Acc, Path) ->
    case is_map_key(Name, Seen) orelse lists:member(Name, Excluded) of
        true -> Acc;
        false ->
            case maps:find(Name, Index) of
                error -> throw({app_not_found, Name, lists:reverse(Path)});
                {ok, {_, _, Term, _}} ->
                    {Required, Optional} = deps(Term),
                    Found = [O || O <- Optional, is_map_key(O, Index)],
                    {Order1, Seen1} = Acc1 = lists:foldl(fun(D, A) -> visit(D, Index, Excluded, A, [Name | Path]) end,
                                                         Acc, (Required -- Optional) ++ Found),
                    case is_map_key(Name, Seen1) of
                        true -> Acc1;
                        false -> {[Name | Order1], Seen1#{Name => true}}
                    end
            end
    end.

goal(A) when is_atom(A) -> {A, []};
goal({A, T}) when is_atom(T) -> {A, [T]};
goal({A, L}) when is_list(L), L =:= [] orelse is_atom(hd(L)) -> {A, [L]};
goal({A, _Vsn}) -> {A, []};
goal({A, _Vsn, T}) when is_atom(T) -> {A, [T]};
goal({A, _Vsn, L}) when is_list(L) -> {A, [L]};
goal({A, _Vsn, T, L}) -> {A, [T, L]};
goal(G) -> throw({bad_goal, G}).

goal_vsn({A, V}) when is_list(V), V =/= [], is_integer(hd(V)) -> {A, V};
goal_vsn({A, V, _}) when is_list(V), V =/= [], is_integer(hd(V)) -> {A, V};
goal_vsn({A, V, _, _}) when is_list(V) -> {A, V};
goal_vsn(_) -> none.

%% A goal naming a version gets that version or an error, never whatever was found first.
check_goal_vsns(Goals, Index) ->
    [case maps:find(A, Index) of
         {ok, {V, _, _, _}} -> ok;
         {ok, {Found, _, _, _}} -> throw({app_vsn_not_found, A, V, Found});
         error -> throw({app_not_found, A, []})
     end || G <- Goals, {A, V} <- [goal_vsn(G)]],
    ok.

%%% ---------------------------------------------------------------- building

build(Name, Vsn, Apps, C, Env, Cache) ->
    Out = filename:absname(maps:get(output_dir, Env), maps:get(root_dir, Env)),
    Dir = filename:join(Out, inside(Out, atom_to_list(Name), release_name)),
    put(?FOLLOW, maps:get(follow_symlinks, Env, inside)),
    #relx{dev_mode = Dev, include_erts = IncludeErts, exclude_apps = Excluded, exclude_modules = ExMods} = C,
    SystemLibs = C#relx.system_libs =/= false,
    %% relx copies sources into a release unless told not to, but packs them into its
    %% tarball only when include_src is set (see tar/2).
    IncludeSrc = C#relx.include_src =/= false,
    ErtsVsn = erlang:system_info(version),
    RelVsnDir = filename:join(Dir, inside(Dir, filename:join("releases", Vsn), release_vsn)),
    [inside(Dir, filename:join("lib", atom_to_list(N) ++ "-" ++ V), {application, N}) || {N, V, _, _, _, _} <- Apps],
    log(Env, "Assembling release ~s-~s in ~ts", [Name, Vsn, Dir]),
    ok(filelib:ensure_path(RelVsnDir), {mkdir, RelVsnDir}),
    ok(filelib:ensure_path(filename:join(Dir, "bin")), {mkdir, "bin"}),
    Packed = [A || {_, _, _, _, Sys, _} = A <- Apps, SystemLibs orelse not Sys],
    Strip = C#relx.debug_info =:= strip andalso not Dev,
    [begin
         Dst = filename:join([Dir, "lib", atom_to_list(N) ++ "-" ++ V]),
         Copy = fun() -> copy_app(A, Dst, Dev, IncludeSrc, Excluded, ExMods), Strip andalso strip(Dst) end,
         case Dev of
             true -> Copy();
             false -> shared_copy(Cache, {N, V, Src, IncludeSrc, Excluded, proplists:get_value(N, ExMods), Strip}, Dst, Copy)
         end
     end || {N, V, Src, _, _, _} = A <- Packed],
    RelTerm = {release, {atom_to_list(Name), Vsn}, {erts, ErtsVsn},
               [rel_entry(N, V, Extra) || {N, V, _, _, _, Extra} <- Apps]},
    RelBase = filename:join(RelVsnDir, atom_to_list(Name)),
    write(RelBase ++ ".rel", io_lib:format("~p. ", [RelTerm])), % relx writes exactly this
    boot_files(Name, RelTerm, RelVsnDir, Dir, SystemLibs, IncludeSrc, C),
    config_files(C, Env, RelVsnDir, Name, Dev),
    write(filename:join([Dir, "releases", "start_erl.data"]), [ErtsVsn, " ", Vsn]),
    SystemLibs andalso
        write(filename:join([Dir, "releases", "RELEASES"]),
              io_lib:format("%% coding: utf-8~n~tp.~n",
                            [[{release, atom_to_list(Name), Vsn, ErtsVsn,
                               [{N, V, "./lib/" ++ atom_to_list(N) ++ "-" ++ V} || {N, V, _, _, _, _} <- Apps],
                               permanent}]])),
    programs(Dir, IncludeErts, ErtsVsn),
    start_script(C, Dir, Name, Vsn, ErtsVsn),
    Targets = overlays(C, Env, Dir, Name, Vsn, ErtsVsn),
    %% relx copies no custom hook or extension: the overlays must have put them in bin/.
    [log(Env, "~p names bin/~ts, which is not in the release (copy it there with an overlay)", [K, S])
     || C#relx.generate_start_script, {K, S} <- fastrel_hooks:scripts(C),
        not filelib:is_regular(filename:join([Dir, "bin", S]))],
    no_group_world_write(Dir),
    Epoch = epoch(C),
    is_integer(Epoch) andalso
        begin
            [log(Env, "Reproducible release: ~p was compiled without deterministic (erl_opts): its beams "
                      "name the directory they were built in, so a build elsewhere differs", [N])
             || {N, _, Src, _, false, _} <- Packed, not deterministic(Src)],
            set_mtimes(Dir, Epoch)
        end,
    {ok, #{reproducible => Epoch, follow_symlinks => get(?FOLLOW), name => Name, vsn => Vsn, dir => Dir, erts_vsn => ErtsVsn, include_erts => IncludeErts =/= false,
           %% rebar3 tar leaves sources out unless include_src is set explicitly.
           system_libs => SystemLibs, include_src => C#relx.include_src =:= true,
           overlay_targets => Targets}}.

rel_entry(N, V, []) -> {N, V};
rel_entry(N, V, [T]) when is_atom(T) -> {N, V, T};
rel_entry(N, V, [L]) when is_list(L) -> {N, V, L};
rel_entry(N, V, [T, L]) -> {N, V, T, L}.

%% ebin, include and priv (plus src, lib, c_src with include_src), following symlinks
%% (rebar3's priv is one); in dev mode a symlink to the application instead.
copy_app({N, _, Src, Term, _, _}, Dst, Dev, IncludeSrc, Excluded, ExMods) ->
    _ = del(Dst),
    case Dev of
        true -> ok(file:make_symlink(Src, Dst), {symlink, Dst});
        false ->
            Subs = ["ebin", "include", "priv"] ++ [S || IncludeSrc =:= true, S <- ["src", "lib", "c_src"]],
            Skip = [atom_to_list(M) ++ ".beam" || M <- proplists:get_value(N, ExMods, [])],
            [copy_tree(filename:join(Src, S), filename:join(Dst, S), Skip) || S <- Subs,
                                                                             filelib:is_dir(filename:join(Src, S))],
            rewrite_app(Term, Dst, Excluded, proplists:get_value(N, ExMods, []))
    end.

%% What beam_lib:strip_release/2 does to the release, one application at a time (so a
%% stripped copy can be shared): relx keeps the attributes too.
strip(AppDir) ->
    case filelib:wildcard(filename:join([AppDir, "ebin", "*.beam"])) of
        [] -> true;
        Beams ->
            case beam_lib:strip_files(Beams, ["Attr"]) of
                {ok, _} -> true;
                {error, beam_lib, Why} -> throw({strip_failed, {beam_lib, Why}})
            end
    end.

rewrite_app({application, N, Props} = T, Dst, Excluded, ExMods) ->
    Apps = proplists:get_value(applications, Props, []),
    Mods = proplists:get_value(modules, Props, []),
    case {Apps -- Excluded, Mods -- ExMods} of
        {Apps, Mods} -> ok;
        {A1, M1} ->
            P1 = lists:keystore(modules, 1, lists:keystore(applications, 1, Props, {applications, A1}), {modules, M1}),
            _ = T,
            write(filename:join([Dst, "ebin", atom_to_list(N) ++ ".app"]), io_lib:format("~tp.~n", [{application, N, P1}]))
    end.

%% Symlinks are followed: `From' itself always, those inside it only while they point
%% inside it, unless follow_symlinks is `outside' (relx follows them all). Raw file
%% operations: one `lstat' per entry, and the copies run in this process, not one by one
%% through the file server.
copy_tree(From, To, Skip) -> copy_tree(From, To, Skip, From).

copy_tree(From, To, Skip, Root) ->
    Info = case file:read_link_info(From, [raw]) of
               {ok, #file_info{type = symlink}} ->
                   From =/= Root andalso get(?FOLLOW) =/= outside andalso symlink_outside(From, Root),
                   file:read_file_info(From, [raw]);
               Other -> Other
           end,
    case Info of
        {ok, #file_info{type = directory}} ->
            ok(filelib:ensure_path(To), {mkdir, To}),
            {ok, Names} = file:list_dir(From),
            [copy_tree(filename:join(From, F), filename:join(To, F), Skip, Root) || F <- Names, not lists:member(F, Skip)],
            ok;
        {ok, #file_info{mode = Mode}} ->
            case copy_file(From, To) of
                ok -> ok = file:write_file_info(To, #file_info{mode = Mode band bnot 8#022}, [raw]);
                {error, Why} -> throw({copy, From, Why})
            end;
        {error, Why} -> throw({copy, From, Why})
    end.

copy_file(From, To) ->
    case file:open(From, [read, raw, binary]) of
        {ok, In} ->
            try file:open(To, [write, raw, binary]) of
                {ok, Out} ->
                    Copied = file:copy(In, Out),
                    case {Copied, file:close(Out)} of
                        {{ok, _}, ok} -> ok;
                        {{error, _} = E, _} -> E;
                        {_, E} -> E
                    end;
                {error, _} = E -> E
            after
                file:close(In)
            end;
        {error, _} = E -> E
    end.

symlink_outside(Path, Root) ->
    case file:read_link_info(Path) of
        {ok, #file_info{type = symlink}} ->
            case {realpath(Path), realpath(Root)} of
                {{ok, T}, {ok, R}} ->
                    lists:prefix(filename:split(R), filename:split(T)) orelse throw({symlink_outside, Path, T});
                _ -> false % dangling: the copy reports it
            end;
        _ -> false
    end.

%% The path with every symlink resolved (at most 40, as the kernel), lexically normalised.
realpath(P) -> realpath(tl(filename:split(filename:absname(P))), ["/"], 40).

realpath(_, _, 0) -> {error, eloop};
realpath([], Acc, _) -> {ok, filename:join(lists:reverse(Acc))};
realpath(["." | T], Acc, N) -> realpath(T, Acc, N);
realpath([".." | T], ["/"], N) -> realpath(T, ["/"], N);
realpath([".." | T], [_ | Acc], N) -> realpath(T, Acc, N);
realpath([C | T], Acc, N) ->
    Here = filename:join(lists:reverse([C | Acc])),
    case file:read_link(Here) of
        {ok, L} ->
            Parts = case filename:pathtype(L) of
                        absolute -> tl(filename:split(L));
                        _ -> filename:split(L)
                    end,
            realpath(Parts ++ T, case filename:pathtype(L) of absolute -> ["/"]; _ -> Acc end, N - 1);
        {error, _} -> realpath(T, [C | Acc], N)
    end.

%% A write target `T' (relative to `Dir', or absolute as `{{output_dir}}/x'), which must
%% stay in `Dir' once `.' and `..' are resolved: `T', made relative if it was absolute.
inside(Dir, T, What) ->
    D = norm(Dir),
    J = norm(filename:join(Dir, T)),
    case lists:prefix(D, J) of
        true when J =:= D -> ".";
        true -> case filename:pathtype(T) of absolute -> filename:join(lists:nthtail(length(D), J)); _ -> T end;
        false -> throw({outside_release, What, T, Dir})
    end.

norm(P) ->
    lists:reverse(lists:foldl(fun(".", Acc) -> Acc;
                                 ("..", ["/"]) -> ["/"];
                                 ("..", [C | Acc]) when C =/= ".." -> Acc;
                                 (C, Acc) -> [C | Acc]
                              end, [], filename:split(P))).

%% Nothing fastrel leaves in a release is group- or world-writable, whatever the umask
%% (symlinks, as dev mode makes them, are not followed).
no_group_world_write(Path) ->
    case file:read_link_info(Path, [raw]) of
        {ok, #file_info{type = symlink}} -> ok;
        {ok, #file_info{type = Type, mode = Mode}} ->
            Mode band 8#022 =/= 0 andalso
                ok(file:write_file_info(Path, #file_info{mode = Mode band 8#7755}, [raw]), {chmod, Path}),
            Type =:= directory andalso
                case file:list_dir(Path) of
                    {ok, Names} -> [no_group_world_write(filename:join(Path, N)) || N <- Names];
                    _ -> ok
                end,
            ok;
        _ -> ok
    end.

%% start.boot (relnif), start_clean.boot (kernel and stdlib started, the rest loaded not
%% started) and no_dot_erlang.boot, as relx makes them.
boot_files(Name, {release, Id, Erts, Entries}, RelVsnDir, Dir, SystemLibs, IncludeSrc, C) ->
    Path = [filename:join([Dir, "lib", "*", "ebin"])] ++
           [filename:join([code:lib_dir(), "*", "ebin"]) || not SystemLibs],
    Vars = [{variables, [{"SYSTEM_LIB_DIR", code:lib_dir()}]} || not SystemLibs],
    Common = [silent, {path, Path}, {outdir, RelVsnDir}] ++ Vars
             ++ [src_tests || IncludeSrc, C#relx.src_tests]
             ++ [exref || C#relx.exref],
    RelBase = filename:join(RelVsnDir, atom_to_list(Name)),
    boot(RelBase, [{script_name, "start"} | Common]),
    _ = Id,
    Clean = {release, {"start_clean", "1.0"}, Erts, [clean_entry(E) || E <- Entries]},
    CleanBase = filename:join(RelVsnDir, "start_clean"),
    write(CleanBase ++ ".rel", io_lib:format("~p.~n", [Clean])),
    boot(CleanBase, Common),
    %% relx's no_dot_erlang boot holds kernel and stdlib only.
    Nde = {release, {"no_dot_erlang", "1.0"}, Erts, [clean_entry(E) || E <- Entries, lists:member(element(1, E), [kernel, stdlib])]},
    NdeBase = filename:join(RelVsnDir, "no_dot_erlang"),
    write(NdeBase ++ ".rel", io_lib:format("~p.~n", [Nde])),
    boot(NdeBase, [no_dot_erlang | Common]),
    [ok = file:delete(F) || F <- [CleanBase ++ ".rel", CleanBase ++ ".script", NdeBase ++ ".rel", NdeBase ++ ".script"]],
    {ok, _} = file:copy(filename:join(RelVsnDir, "no_dot_erlang.boot"), filename:join([Dir, "bin", "no_dot_erlang.boot"])),
    ok.

clean_entry(E) when element(1, E) =:= kernel; element(1, E) =:= stdlib -> {element(1, E), element(2, E)};
clean_entry(E) -> {element(1, E), element(2, E), none}.

boot(RelBase, Opts) ->
    case relnif:make_script(RelBase, Opts) of
        {ok, relnif, _} -> ok;
        {error, relnif, E} -> throw({make_script, {relnif, E}})
    end.

%% sys.config and vm.args: the configured files (`.src' kept for rendering at start),
%% config/sys.config and config/vm.args if present, else defaults.
config_files(C, #{root_dir := Root}, RelVsnDir, Name, Dev) ->
    Pick = fun(Src0, Plain, Default) ->
               case {Src0, Plain} of
                   {Src, _} when is_list(Src) -> {src, filename:absname(Src, Root)};
                   {_, false} -> none;
                   {_, P} when is_list(P) -> {plain, filename:absname(P, Root)};
                   _ ->
                       case filelib:is_regular(filename:join([Root, "config", Default ++ ".src"])) of
                           true -> {src, filename:join([Root, "config", Default ++ ".src"])};
                           false ->
                               case filelib:is_regular(filename:join([Root, "config", Default])) of
                                   true -> {plain, filename:join([Root, "config", Default])};
                                   false -> default
                               end
                       end
               end
           end,
    place(Pick(C#relx.sys_config_src, C#relx.sys_config, "sys.config"), RelVsnDir, "sys.config", Dev, "[].\n"),
    place(Pick(C#relx.vm_args_src, C#relx.vm_args, "vm.args"), RelVsnDir, "vm.args", Dev, default_vm_args(Name)).

place(none, _, _, _, _) -> ok;
place(default, Dir, Base, _, Text) -> write(filename:join(Dir, Base), Text);
place({Kind, From}, Dir, Base, Dev, _) ->
    filelib:is_regular(From) orelse throw({missing_file, From}),
    Base =:= "sys.config" andalso Kind =:= plain andalso
        (case relnif:consult(From) of
             {ok, [L]} when is_list(L) -> ok;
             {ok, Other} -> throw({bad_sys_config, From, Other});
             {error, E} -> throw({bad_sys_config, From, {error, E}})
         end),
    To = filename:join(Dir, case Kind of src -> Base ++ ".src"; plain -> Base end),
    _ = del(To),
    case Dev of
        true -> ok(file:make_symlink(From, To), {symlink, To});
        false -> {ok, _} = file:copy(From, To), ok
    end.

default_vm_args(Name) ->
    ["## Written by rebar3 fastrel; put your own in config/vm.args (or vm_args in the relx config).\n",
     "-sname ", atom_to_list(Name), "\n",
     "-setcookie ", atom_to_list(Name), "\n",
     "+C multi_time_warp\n",
     "## Uncomment to have fastrel's heart restart the node (HEART_COMMAND defaults to\n",
     "## `bin/", atom_to_list(Name), " daemon'):\n",
     "## -heart\n",
     "## -env HEART_BEAT_TIMEOUT 30\n"].

%% fastrel's heart, run_erl and to_erl: without a bundled ERTS in fastrel/bin; with one,
%% in its bin in place of OTP's and nowhere else. One copy in the release, then, and on
%% an upgrade to a new ERTS the programs come with it (release_handler unpacks with
%% keep_old_files: a fastrel/bin from an older release would stay as it was). What an
%% earlier build without ERTS left in fastrel/ goes.
programs(Dir, false, _ErtsVsn) ->
    install_programs(filename:join([Dir, "fastrel", "bin"]));
programs(Dir, IncludeErts, ErtsVsn) ->
    From = case IncludeErts of
               true -> code:root_dir();
               Path when is_list(Path) -> Path
           end,
    ErtsBin = filename:join([From, "erts-" ++ ErtsVsn, "bin"]),
    To = filename:join([Dir, "erts-" ++ ErtsVsn, "bin"]),
    filelib:is_dir(ErtsBin) orelse throw({erts_not_found, ErtsBin}),
    ok(filelib:ensure_path(To), {mkdir, To}),
    {ok, Names} = file:list_dir(ErtsBin),
    Ours = ["fastrel_programs" | fastrel_overlay:programs()],
    [copy_tree(filename:join(ErtsBin, F), filename:join(To, F), [])
     || F <- Names, F =/= "yielding_c_fun", not lists:member(F, Ours)],
    install_programs(To),
    Stale = filename:join(Dir, "fastrel"),
    ok(del(Stale), {write, Stale}).

install_programs(Bin) ->
    case fastrel_overlay:install_programs(Bin) of
        ok -> ok;
        {error, E} -> throw({programs, E})
    end.

start_script(C, Dir, Name, Vsn, ErtsVsn) ->
    case C#relx.generate_start_script of
        false -> ok;
        true ->
            {ok, T} = template("bin_script.sh"),
            Text = lists:foldl(fun({K, V}, Acc) -> binary:replace(Acc, K, V, [global]) end, T,
                               [{<<"@@REL_NAME@@">>, atom_to_binary(Name)},
                                {<<"@@REL_VSN@@">>, list_to_binary(Vsn)},
                                {<<"@@ERTS_VSN@@">>, list_to_binary(ErtsVsn)}]
                               ++ [{K, iolist_to_binary(V)} || {K, V} <- fastrel_hooks:substitutions(C)]),
            %% relx writes the built-in hooks the configuration uses to bin/hooks/builtin/.
            [write(filename:join([Dir, "bin", F]), Hook, 8#755) || {F, Hook} <- fastrel_hooks:builtin_files(C)],
            write(filename:join([Dir, "bin", atom_to_list(Name)]), Text, 8#755),
            write(filename:join([Dir, "bin", atom_to_list(Name) ++ "-" ++ Vsn]), Text, 8#755)
    end.

template(File) ->
    case fastrel_file:priv_file(filename:join("templates", File)) of
        {ok, B} -> {ok, B};
        {error, not_found} -> throw({template_missing, File})
    end.

%% relx's overlays: mkdir, copy, link, template, chmod, with `{{var}}' in paths and
%% templates. Returns the targets made (relative), for the tarball.
overlays(C, Env, Dir, Name, Vsn, ErtsVsn) ->
    Root = maps:get(root_dir, Env),
    Vars0 = [{release_name, Name}, {rel_name, Name}, {release_version, Vsn}, {rel_vsn, Vsn},
             {release, atom_to_list(Name) ++ "-" ++ Vsn}, {erts_vsn, ErtsVsn},
             {release_erts_version, ErtsVsn}, {erts_dir, code:root_dir()}, {output_dir, Dir},
             {target_dir, Dir}, {root_dir, Root}]
            ++ maps:get(overlay_vars_values, Env, []) ++ C#relx.overlay_vars_values,
    Vars = lists:foldl(fun(F, Acc) -> Acc ++ overlay_var_file(filename:absname(render(F, Acc), Root)) end,
                       Vars0, C#relx.overlay_vars),
    Dev = C#relx.dev_mode,
    %% chmod changes a target, it makes none: relx leaves it out of the tarball's list.
    [T || O <- C#relx.overlay, T <- [overlay(O, Vars, Root, Dir, Dev)], element(1, O) =/= chmod].

overlay_var_file(File) ->
    case relnif:consult(File) of
        {ok, Terms} -> lists:append([case T of
                                         {K, V} -> [{K, V}];
                                         _ -> []
                                     end || T <- Terms]);
        {error, E} -> throw({overlay_vars, File, E})
    end.

overlay({mkdir, D}, Vars, _, Dir, _) ->
    T = inside(Dir, render(D, Vars), mkdir),
    ok(filelib:ensure_path(filename:join(Dir, T)), {mkdir, T}),
    T;
overlay({copy, F, T}, Vars, Root, Dir, _) ->
    {From, Written} = {filename:absname(render(F, Vars), Root), render(T, Vars)},
    To = inside(Dir, Written, copy),
    Dst = dest(From, Written, filename:join(Dir, To)),
    _ = inside(Dir, Dst, copy),
    ok(filelib:ensure_dir(Dst), {mkdir, Dst}),
    copy_tree(From, Dst, []),
    To;
overlay({link, F, T}, Vars, Root, Dir, true) ->
    {From, To} = {filename:absname(render(F, Vars), Root), inside(Dir, render(T, Vars), link)},
    Dst = filename:join(Dir, To),
    ok(filelib:ensure_dir(Dst), {mkdir, Dst}),
    _ = del(Dst),
    ok(file:make_symlink(From, Dst), {symlink, Dst}),
    To;
overlay({link, F, T}, Vars, Root, Dir, false) -> overlay({copy, F, T}, Vars, Root, Dir, false);
overlay({template, F, T}, Vars, Root, Dir, _) ->
    {From, To} = {filename:absname(render(F, Vars), Root), inside(Dir, render(T, Vars), template)},
    {ok, Bin} = case file:read_file(From) of {ok, _} = R -> R; {error, E} -> throw({template, From, E}) end,
    Dst = filename:join(Dir, To),
    ok(filelib:ensure_dir(Dst), {mkdir, Dst}),
    write(Dst, render(unicode:characters_to_list(Bin), Vars)),
    To;
overlay({chmod, Mode, P}, Vars, _, Dir, _) ->
    T = inside(Dir, render(P, Vars), chmod),
    ok(file:change_mode(filename:join(Dir, T), Mode), {chmod, T}),
    T;
overlay(Other, _, _, _, _) -> throw({bad_overlay, Other}).

%% `copy' into an existing directory, or to a target written with a trailing `/', puts
%% the file inside it (filename:join drops that slash, so look at the target as written).
dest(From, Written, To) ->
    case filelib:is_dir(To) orelse lists:last(Written) =:= $/ of
        true -> filename:join(To, filename:basename(From));
        false -> To
    end.

%% `{{name}}' replaced by the variable's value (mustache's plain form only).
render(Text, Vars) ->
    case string:split(Text, "{{") of
        [Before, Rest] ->
            case string:split(Rest, "}}") of
                [Key, After] ->
                    K = string:trim(Key),
                    V = case [Val || {Name, Val} <- Vars, to_list(Name) =:= K] of
                            [Val | _] -> to_list(Val);
                            [] -> ""
                        end,
                    Before ++ V ++ render(After, Vars);
                _ -> Text
            end;
        _ -> Text
    end.

to_list(A) when is_atom(A) -> atom_to_list(A);
to_list(B) when is_binary(B) -> binary_to_list(B);
to_list(I) when is_integer(I) -> integer_to_list(I);
to_list(L) when is_list(L) -> L;
to_list(T) -> lists:flatten(io_lib:format("~p", [T])).

%%% ---------------------------------------------------------------- reproducible

%% The mtime a reproducible release gets: SOURCE_DATE_EPOCH (as relnif:make_tar reads
%% it), else 0 with `{reproducible, true}'; false when not reproducible.
epoch(#relx{reproducible = false}) -> false;
epoch(#relx{reproducible = R}) ->
    case os:getenv("SOURCE_DATE_EPOCH") of
        false when R =:= true -> 0;
        false -> false;
        S ->
            try list_to_integer(string:trim(S)) of
                N when N >= 0 -> N;
                _ -> throw({bad_source_date_epoch, S})
            catch error:badarg -> throw({bad_source_date_epoch, S})
            end
    end.

%% Whether an application's beams were compiled with `deterministic' (no source path in
%% their compile_info); one beam speaks for the application.
deterministic(AppDir) ->
    case filelib:wildcard(filename:join([AppDir, "ebin", "*.beam"])) of
        [Beam | _] ->
            case beam_lib:chunks(Beam, [compile_info]) of
                {ok, {_, [{compile_info, Info}]}} -> not lists:keymember(source, 1, Info);
                _ -> true
            end;
        [] -> true
    end.

%% Every file and directory (depth first, a directory after what is in it) gets the
%% epoch as mtime and atime. Of the symlinks, those beside their target (fastrel's
%% programs) get it too, through `touch -h' (Erlang's file module cannot set a link's own
%% times); those that point elsewhere (dev mode) are left alone.
set_mtimes(Path, Epoch) ->
    Links = set_mtimes(Path, Epoch, []),
    Touch = os:find_executable("touch"),
    case Links =/= [] andalso is_list(Touch) of
        false -> ok;
        true ->
            {{Y, Mo, D}, {H, Mi, S}} = calendar:system_time_to_universal_time(Epoch, second),
            Stamp = lists:flatten(io_lib:format("~4..0b~2..0b~2..0b~2..0b~2..0b.~2..0b", [Y, Mo, D, H, Mi, S])),
            Port = open_port({spawn_executable, Touch}, [{args, ["-h", "-t", Stamp | Links]}, {env, [{"TZ", "UTC"}]},
                                                         exit_status, stderr_to_stdout]),
            receive {Port, {exit_status, 0}} -> ok;
                    {Port, {exit_status, _}} -> throw({{set_mtime, hd(Links)}, eperm})
            end
    end.

set_mtimes(Path, Epoch, Links) ->
    case file:read_link_info(Path) of
        {ok, #file_info{type = symlink}} ->
            case file:read_link(Path) of
                {ok, Target} -> case lists:member($/, Target) of
                                    true -> Links;
                                    false -> [Path | Links]
                                end;
                _ -> Links
            end;
        {ok, #file_info{type = Type}} ->
            Inner = case Type =:= directory andalso file:list_dir(Path) of
                        {ok, Names} -> lists:foldl(fun(N, Acc) -> set_mtimes(filename:join(Path, N), Epoch, Acc) end,
                                                   Links, Names);
                        _ -> Links
                    end,
            ok(file:write_file_info(Path, #file_info{mtime = Epoch, atime = Epoch}, [{time, posix}]), {set_mtime, Path}),
            Inner;
        _ -> Links
    end.

%%% ---------------------------------------------------------------- tar

%% @doc Packs an assembled release into `DIR/NAME-VSN.tar.gz' with relnif:make_tar, the
%% entries relx's tarball has (plus fastrel/bin).
-spec tar(release(), [term()]) -> {ok, file:filename()} | {error, {?MODULE, term()}}.
tar(#{name := Name, vsn := Vsn, dir := Dir} = R, Extra) ->
    N = atom_to_list(Name),
    RelVsn = filename:join("releases", Vsn),
    Exists = fun(P) -> filelib:is_file(filename:join(Dir, P)) end,
    Files = [T || T <- maps:get(overlay_targets, R, []), T =/= "bin", T =/= ".", not lists:prefix("bin/", T)]
            ++ [filename:join(RelVsn, F) || F <- ["vm.args.src", "vm.args", "start_clean.boot", "no_dot_erlang.boot"],
                                           Exists(filename:join(RelVsn, F))]
            ++ ["releases/start_erl.data", "bin", "fastrel", "releases/RELEASES"],
    Opts = [silent, {path, [filename:join([Dir, "lib", "*", "ebin"])]}, {outdir, Dir}, {symlinks, beside},
            {extra_files, [{filename:join(Dir, F), F} || F <- Files, Exists(F)]}]
           ++ [{dirs, [include, src]} || maps:get(include_src, R, false)]
           ++ [{erts, Dir} || maps:get(include_erts, R, false)]
           ++ [{follow_symlinks, outside} || maps:get(follow_symlinks, R, inside) =:= outside]
           ++ case maps:get(system_libs, R, true) of
                  true -> [];
                  false -> [{variables, [{"SYSTEM_LIB_DIR", code:lib_dir()}]}, {var_tar, omit}]
              end ++ Extra
           %% The release's own setting, unless the command line gave one (first wins); a
           %% release map without it (fastrel tar REL_DIR) leaves it to SOURCE_DATE_EPOCH.
           ++ [{reproducible, is_integer(E)} || E <- [maps:get(reproducible, R, undefined)], E =/= undefined],
    case relnif:make_tar(filename:join([Dir, RelVsn, N]), Opts) of
        {ok, relnif, _} ->
            Tar = filename:join(Dir, N ++ "-" ++ Vsn ++ ".tar.gz"),
            ok = file:rename(filename:join(Dir, N ++ ".tar.gz"), Tar),
            case maps:get(reproducible, R, false) of
                Epoch when is_integer(Epoch) -> [ok = file:write_file_info(P, #file_info{mtime = Epoch, atime = Epoch}, [{time, posix}]) || P <- [Tar, Dir]];
                _ -> ok
            end,
            {ok, Tar};
        {error, relnif, E} -> {error, {?MODULE, {make_tar, {relnif, E}}}}
    end.

%% @doc `tar/2' for each release, in parallel (each tarball is compressed on every core,
%% but reading and packing are not); the error names each release that failed.
-spec tar_many([release()], [term()]) -> {ok, [file:filename()]} | {error, {?MODULE, term()}}.
tar_many(Releases, Extra) ->
    Results = parallel([fun() -> case tar(R, Extra) of {error, {?MODULE, E}} -> {error, E}; Ok -> Ok end end
                        || R <- Releases]),
    case [{maps:get(name, R), E} || {R, {error, E}} <- lists:zip(Releases, Results)] of
        [] -> {ok, [T || {ok, T} <- Results]};
        Failed -> {error, {?MODULE, {releases_failed, Failed}}}
    end.

%%% ---------------------------------------------------------------- helpers

names(Keys) -> lists:join(", ", [atom_to_list(K) || K <- Keys]).

log(#{log := F}, Fmt, Args) -> F(Fmt, Args);
log(_, _, _) -> ok.

write(Path, Data) -> write(Path, Data, undefined).

%% Atomically: nothing half-written is left as if it were good.
write(Path, Data, Mode) ->
    ok(filelib:ensure_dir(Path), {mkdir, Path}),
    ok(fastrel_file:write_atomic(Path, Data, Mode), {write, Path}).

del(P) ->
    case file:read_link_info(P) of
        {ok, #file_info{type = directory}} -> file:del_dir_r(P);
        {ok, _} -> file:delete(P);
        _ -> ok
    end.

ok(ok, _) -> ok;
ok({ok, _} = R, _) -> R;
ok({error, Why}, What) -> throw({What, Why}).

%% @doc One sentence per failure.
-spec format_error(term()) -> string().
format_error({?MODULE, R}) -> format_error(R);
format_error({fastrel_config, _} = R) -> fastrel_config:format_error(R);
format_error({app_not_found, App, []}) -> io_lib:format("Application ~p not found (not built, not in lib_dirs, not in OTP)", [App]);
format_error({app_not_found, App, Path}) ->
    io_lib:format("Application ~p not found (needed by ~ts)", [App, lists:join(" <- ", [atom_to_list(A) || A <- lists:reverse(Path)])]);
format_error({app_vsn_not_found, A, V, Found}) ->
    io_lib:format("Application ~p version ~s is wanted by the release, but ~s was found", [A, V, Found]);
format_error({unsupported_keys, Ks}) -> io_lib:format("Unsupported relx keys (warnings_as_errors): ~ts", [names(Ks)]);
format_error({missing_file, F}) -> io_lib:format("File not found: ~ts", [F]);
format_error({bad_sys_config, F, {error, E}}) ->
    io_lib:format("Cannot read ~ts (sys.config): ~ts", [F, fastrel_errors:consult_error(E)]);
format_error({bad_sys_config, F, _}) -> io_lib:format("~ts is not a single list term (sys.config)", [F]);
format_error({releases_failed, Failed}) ->
    lists:join("; ", [io_lib:format("Release ~p: ~ts", [N, format_error(R)]) || {N, R} <- Failed]);
format_error({crashed, Why}) -> io_lib:format("crashed: ~tp", [Why]);
format_error({bad_source_date_epoch, S}) ->
    io_lib:format("SOURCE_DATE_EPOCH is ~tp, not a number of seconds since 1970 (a reproducible release's mtime)", [S]);
format_error({bad_app_file, F}) -> io_lib:format("~ts is not an application resource file ({application, Name, [...]})", [F]);
format_error({bad_app_file, F, E}) ->
    io_lib:format("Cannot read ~ts as an application resource file: ~ts", [F, fastrel_errors:consult_error(E)]);
format_error({overlay_vars, F, E}) ->
    io_lib:format("Cannot read overlay variables from ~ts: ~ts", [F, fastrel_errors:consult_error(E)]);
format_error({relx_config, F, E}) ->
    io_lib:format("Cannot read ~ts: ~ts", [F, fastrel_errors:consult_error(E)]);
format_error({erts_not_found, D}) -> io_lib:format("ERTS not found: ~ts", [D]);
format_error({make_script, Nested}) -> ["Boot script: ", fastrel_errors:nested(Nested)];
format_error({strip_failed, Nested}) -> ["Stripping debug info (debug_info strip): ", fastrel_errors:nested(Nested)];
format_error({make_tar, Nested}) -> ["Tarball: ", fastrel_errors:nested(Nested)];
format_error({programs, Nested}) -> ["fastrel's programs: ", fastrel_errors:nested(Nested)];
format_error({template_missing, F}) -> io_lib:format("fastrel's template ~s is missing", [F]);
format_error({outside_release, What, T, Dir}) ->
    io_lib:format("Refusing to write ~ts (~tp): it is outside the release directory ~ts", [T, What, Dir]);
format_error({symlink_outside, L, T}) ->
    io_lib:format("Refusing to copy ~ts: it is a symbolic link to ~ts, outside the directory being copied "
                  "(--follow-symlinks-outside copies its target)", [L, T]);
format_error({copy, F, Why}) -> io_lib:format("Cannot copy ~ts: ~ts", [F, file:format_error(Why)]);
format_error({What, Why}) when is_atom(Why) -> io_lib:format("~p: ~ts", [What, file:format_error(Why)]);
format_error(Other) -> io_lib:format("~tp", [Other]).
