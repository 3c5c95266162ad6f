%% SPDX-License-Identifier: Apache-2.0
%% @doc The relx configuration (`{relx, [...]}' in rebar.config, or relx.config), read
%% once into a `#relx{}' record for the release being built: one clause per key, each
%% value checked where it is read, every default in `fastrel_config.hrl'. relx's own
%% `rlx_config' is the model; what relx reads and fastrel does not is reported by name.
-module(fastrel_config).

-export([load/2, release_names/1, known_keys/0, format_error/1]).

-include("fastrel_config.hrl").

-export_type([relx/0]).
-type relx() :: #relx{}.

%% Read into the record. `mode' and `dev_mode' are expanded first (relx's expand_mode).
-define(READ, [dev_mode, include_erts, system_libs, include_src, debug_info,
               generate_start_script, vm_args, vm_args_src, sys_config, sys_config_src,
               overlay, overlay_vars, overlay_vars_values, exclude_apps, exclude_modules,
               lib_dirs, src_tests, exref, warnings_as_errors, extended_start_script_hooks,
               extended_start_script_extensions, extended_start_script_commands, reproducible]).
%% Understood elsewhere (releases, the output directory) or accepted as relx has them
%% with nothing for fastrel to do (fastrel's start script is always the extended one).
-define(ACCEPTED, [release, default_release, mode, extended_start_script, include_nodetool,
                   include_start_scripts_for, output_dir, check_for_undefined_functions]).

%% @doc Every relx key fastrel understands.
-spec known_keys() -> [atom()].
known_keys() -> (?ACCEPTED -- [mode]) ++ ?READ.

%% @doc The release named `Wanted' (its highest version, as relx; or the default one, or
%% the first) with the global configuration and that release's own keys over it (later
%% keys win). The global `{overlay, L}' entries add up (rebar3 merges them into one); a
%% release's own `overlay' replaces them, as in relx.
-spec load([term()], atom() | undefined) -> {ok, relx()} | {error, {?MODULE, term()}}.
load(Terms, Wanted) when is_list(Terms) ->
    try
        Config = merge_overlays(expand(Terms)),
        {Name, Vsn, Goals, PerRel} = pick_release(Config, Wanted),
        R0 = #relx{name = Name, vsn = Vsn, goals = Goals, unknown = unknown_keys(Terms)},
        R1 = lists:foldl(fun key/2, R0, Config),
        R2 = lists:foldl(fun key/2, R1, expand(PerRel)),
        Overlay = case [O || {overlay, O} <- PerRel] of
                      [] -> R1#relx.overlay;
                      Own -> lists:last(Own)
                  end,
        {ok, check_commands(R2#relx{overlay = Overlay})}
    catch
        throw:Reason -> {error, {?MODULE, Reason}}
    end;
load(Terms, _) ->
    {error, {?MODULE, {not_a_list, Terms}}}.

%% @doc Every release name configured, in the order of the configuration (a name given
%% with several versions once: `load/2' takes its highest).
-spec release_names([term()]) -> {ok, [atom()]} | {error, {?MODULE, term()}}.
release_names(Terms) when is_list(Terms) ->
    try releases(Terms) of
        [] -> {error, {?MODULE, no_release_configured}};
        Rels -> {ok, lists:foldl(fun({N, _, _, _}, Acc) -> Acc ++ [N || not lists:member(N, Acc)] end, [], Rels)}
    catch
        throw:Reason -> {error, {?MODULE, Reason}}
    end;
release_names(Terms) ->
    {error, {?MODULE, {not_a_list, Terms}}}.

%%% ---------------------------------------------------------------- keys

-define(is_path(P), (is_list(P) andalso P =/= [] andalso is_integer(hd(P)))).

key({dev_mode, B}, R) when is_boolean(B) -> R#relx{dev_mode = B};
key({include_erts, B}, R) when is_boolean(B); ?is_path(B) -> R#relx{include_erts = B};
key({system_libs, B}, R) when is_boolean(B); ?is_path(B) -> R#relx{system_libs = B};
key({include_src, B}, R) when is_boolean(B) -> R#relx{include_src = B};
key({debug_info, D}, R) when D =:= keep; D =:= strip -> R#relx{debug_info = D};
key({generate_start_script, B}, R) when is_boolean(B) -> R#relx{generate_start_script = B};
key({vm_args, P}, R) when P =:= false; ?is_path(P) -> R#relx{vm_args = P};
key({vm_args_src, P}, R) when ?is_path(P) -> R#relx{vm_args_src = P};
key({sys_config, P}, R) when P =:= false; ?is_path(P) -> R#relx{sys_config = P};
key({sys_config_src, P}, R) when ?is_path(P) -> R#relx{sys_config_src = P};
key({overlay, L}, #relx{overlay = O} = R) when is_list(L) -> R#relx{overlay = O ++ L};
key({reproducible, B}, R) when is_boolean(B) -> R#relx{reproducible = B};
key({overlay_vars, P}, R) when ?is_path(P) -> R#relx{overlay_vars = [P]};
key({overlay_vars, L}, R) when is_list(L) -> R#relx{overlay_vars = paths(overlay_vars, L)};
key({overlay_vars_values, L}, R) when is_list(L) -> R#relx{overlay_vars_values = pairs(overlay_vars_values, L)};
key({exclude_apps, L}, R) when is_list(L) -> R#relx{exclude_apps = atoms(exclude_apps, L)};
key({exclude_modules, L}, R) when is_list(L) -> R#relx{exclude_modules = exclude_modules(L)};
key({lib_dirs, L}, R) when is_list(L) -> R#relx{lib_dirs = paths(lib_dirs, L)};
key({src_tests, B}, R) when is_boolean(B) -> R#relx{src_tests = B};
key({exref, B}, R) when is_boolean(B) -> R#relx{exref = B};
key({warnings_as_errors, B}, R) when is_boolean(B) -> R#relx{warnings_as_errors = B};
key({extended_start_script_hooks, L}, R) when is_list(L) ->
    R#relx{extended_start_script_hooks = [hook_phase(P) || P <- L]};
key({extended_start_script_extensions, L}, R) when is_list(L) ->
    R#relx{extended_start_script_extensions = extensions(L)};
key({extended_start_script_commands, all}, R) -> R#relx{extended_start_script_commands = all};
key({extended_start_script_commands, L}, R) when is_list(L) ->
    R#relx{extended_start_script_commands = lists:usort([fastrel_hooks:canonical(C) || C <- atoms(extended_start_script_commands, L)])};
key({K, V}, R) when is_atom(K) ->
    case lists:member(K, ?READ) of
        true -> throw({bad_value, K, V});
        false -> R
    end;
key(_, R) -> R.

paths(K, L) -> [case ?is_path(P) of true -> P; false -> throw({bad_value, K, L}) end || P <- L].
atoms(K, L) -> [case is_atom(A) of true -> A; false -> throw({bad_value, K, L}) end || A <- L].
pairs(K, L) -> [case P of {A, _} when is_atom(A) -> P; _ -> throw({bad_value, K, L}) end || P <- L].
exclude_modules(L) ->
    [case E of
         {A, Ms} when is_atom(A), is_list(Ms) -> {A, atoms(exclude_modules, Ms)};
         _ -> throw({bad_value, exclude_modules, L})
     end || E <- L].

%%% ---------------------------------------------------------------- start script hooks

-define(HOOKS, extended_start_script_hooks).

%% relx's phases, and fastrel's {pre, Command, Hooks} / {post, Command, Hooks}.
hook_phase({Phase, Hooks}) when is_atom(Phase), is_list(Hooks) ->
    lists:member(Phase, fastrel_hooks:phases()) orelse throw({bad_hook_phase, Phase}),
    {Phase, [hook(Phase, H) || H <- Hooks]};
hook_phase({When, Cmd, Hooks}) when (When =:= pre orelse When =:= post), is_atom(Cmd), is_list(Hooks) ->
    Phase = {When, fastrel_hooks:canonical(Cmd)},
    When =:= post andalso lists:member(element(2, Phase), fastrel_hooks:exec_commands())
        andalso throw({hook_after_exec, Cmd}),
    {Phase, [hook(Phase, H) || H <- Hooks]};
hook_phase(Other) -> throw({bad_hook_phase, Other}).

%% What relx allows where (rlx_assemble:validate_hook/2), except that a hook in the wrong
%% phase is an error, not a hook silently left out.
hook(_, {custom, S} = H) when ?is_path(S) -> H;
hook(post_start, H) when H =:= pid; H =:= wait_for_vm_start -> H;
hook(post_start, {pid, F} = H) when ?is_path(F) -> H;
hook(post_start, {wait_for_process, A} = H) when is_atom(A) -> H;
hook(status, builtin_status) -> builtin_status;
hook(post_start, {K, _} = H) when K =:= pid; K =:= wait_for_process -> throw({bad_hook, post_start, H});
hook(Phase, H) when H =:= pid; H =:= wait_for_vm_start; H =:= builtin_status;
                    element(1, H) =:= pid; element(1, H) =:= wait_for_process ->
    throw({hook_not_allowed, Phase, H});
hook(Phase, H) -> throw({bad_hook, Phase, H}).

extensions(L) ->
    [case E of
         {Name, Script} when is_atom(Name), ?is_path(Script) ->
             fastrel_hooks:is_command_name(Name) orelse throw({bad_value, extended_start_script_extensions, L}),
             lists:member(Name, fastrel_hooks:commands() ++ fastrel_hooks:aliases())
                 andalso throw({extension_shadows, Name}),
             E;
         _ -> throw({bad_value, extended_start_script_extensions, L})
     end || E <- L].

%% Commands named by hooks and by extended_start_script_commands exist (an extension
%% counts, whichever key came first).
check_commands(#relx{extended_start_script_hooks = Hooks, extended_start_script_extensions = Exts,
                     extended_start_script_commands = Cmds} = R) ->
    Known = fastrel_hooks:commands() ++ [N || {N, _} <- Exts],
    [throw({unknown_command, ?HOOKS, C}) || {{_, C}, _} <- Hooks, not lists:member(C, Known)],
    [throw({unknown_command, extended_start_script_commands, C}) || Cmds =/= all, C <- Cmds, not lists:member(C, Known)],
    R.

%% `{mode, M}' and `{dev_mode, true}' stand for several keys, expanded in place, so later
%% keys still override them.
expand(Config) ->
    lists:flatmap(fun({mode, dev}) -> [{include_src, true}, {debug_info, keep}, {include_erts, false}, {dev_mode, true}];
                     ({mode, prod}) -> [{include_src, false}, {debug_info, strip}, {include_erts, true}, {dev_mode, false}];
                     ({mode, minimal}) -> [{include_src, false}, {debug_info, strip}, {include_erts, false}, {dev_mode, false}];
                     ({mode, M}) -> throw({bad_value, mode, M});
                     ({dev_mode, true}) -> [{include_src, true}, {debug_info, keep}, {include_erts, false}, {dev_mode, true}];
                     (Other) -> [Other]
                  end, Config).

unknown_keys(Config) ->
    lists:usort([element(1, T) || T <- Config, is_tuple(T), tuple_size(T) >= 1,
                                  not lists:member(element(1, T), ?ACCEPTED ++ ?READ)]).

%%% ---------------------------------------------------------------- releases

%% Every `{release, ...}' form relx accepts, in order. `{extend, R}' (R of the same
%% version, else the last R before) or `{extend, {R, Vsn}}' takes R's goals, as already extended, with the
%% release's own goals over them (one per application, in R's place or appended), and
%% nothing else of R: its own keys (overlays too) are not inherited (rlx_config).
releases(Config) ->
    lists:reverse(lists:foldl(fun(R, Acc) -> [extend(normalise(R), Acc) | Acc] end, [],
                              [R || R <- Config, is_tuple(R), element(1, R) =:= release])).

normalise({release, {N, V}, Goals}) -> {N, V, none, Goals, []};
normalise({release, {N, V, {extend, E}}, Goals}) -> {N, V, E, Goals, []};
normalise({release, {N, V}, {erts, _}, Goals}) -> {N, V, none, Goals, []};
normalise({release, {N, V}, Goals, Cfg}) when is_list(Cfg) -> {N, V, none, Goals, Cfg};
normalise({release, {N, V, {extend, E}}, Goals, Cfg}) -> {N, V, E, Goals, Cfg};
normalise({release, {N, V}, {erts, _}, Goals, Cfg}) -> {N, V, none, Goals, Cfg};
normalise(Other) -> throw({bad_release, Other}).

extend({N, V, _, Goals, _}, _) when not is_atom(N); not is_list(Goals) -> throw({bad_release, {release, {N, V}, Goals}});
extend({N, V, none, Goals, Cfg}, _) -> {N, V, Goals, Cfg};
extend({N, V, E, Goals, Cfg}, Earlier) ->
    {EName, EVsn} = case E of {EN, EV} -> {EN, EV}; EN -> {EN, V} end,
    Exact = [G || {RN, RV, G, _} <- Earlier, RN =:= EName, RV =:= EVsn],
    %% relx fails (badkey) on a bare name of another version; fastrel then takes the
    %% nearest release of that name before this one.
    Named = [G || is_atom(E), {RN, _, G, _} <- Earlier, RN =:= EName],
    case Exact ++ Named of
        [Base | _] ->
            Merged = lists:foldl(fun(G, Acc) -> lists:keystore(goal_app(G), 1, Acc, {goal_app(G), G}) end,
                                 [{goal_app(G), G} || G <- Base], Goals),
            {N, V, [G || {_, G} <- Merged], Cfg};
        [] -> throw({extend_unknown_release, N, EName, EVsn})
    end.

goal_app(A) when is_atom(A) -> A;
goal_app(T) when is_tuple(T), is_atom(element(1, T)) -> element(1, T);
goal_app(G) -> throw({bad_goal, G}).

pick_release(Config, Wanted) ->
    case {releases(Config), Wanted} of
        {[], _} -> throw(no_release_configured);
        {[R | _], undefined} ->
            case [D || {default_release, D} <- Config] of
                [{DN, _} | _] -> find_release(DN, releases(Config));
                [DN | _] when is_atom(DN) -> find_release(DN, releases(Config));
                [] -> R
            end;
        {Rels, N} -> find_release(N, Rels)
    end.

%% relx builds the highest version of a name configured more than once.
find_release(N, Rels) ->
    case [R || {RN, _, _, _} = R <- Rels, RN =:= N] of
        [R | Rest] -> lists:foldl(fun(X, Best) -> case vsn_key(X) > vsn_key(Best) of true -> X; false -> Best end end, R, Rest);
        [] -> throw({unknown_release, N})
    end.

%% Numbers compare as numbers ("1.10" after "1.9"); a version that is not a string
%% (git, {cmd, ...}) is resolved later, so it never wins over the first one configured.
vsn_key({_, V, _, _}) when ?is_path(V) ->
    [try list_to_integer(P) catch error:badarg -> P end || P <- string:lexemes(V, ".-+")];
vsn_key(_) -> [].

%% rebar3 merges every `{overlay, L}' of the relx section into one, the later entries
%% first (rebar_relx:merge_overlays/1: a profile's come before the project's).
merge_overlays(Config) ->
    case [L || {overlay, L} <- Config, is_list(L)] of
        [] -> Config;
        Ls -> [{overlay, lists:append(lists:reverse(Ls))} | [T || T <- Config, not is_overlay_list(T)]]
    end.

is_overlay_list({overlay, L}) -> is_list(L);
is_overlay_list(_) -> false.

%%% ---------------------------------------------------------------- errors

%% @doc One sentence per failure.
-spec format_error(term()) -> string().
format_error({?MODULE, R}) -> format_error(R);
format_error(no_release_configured) -> "No {release, ...} in the relx configuration";
format_error({unknown_release, N}) -> io_lib:format("No release named ~p in the relx configuration", [N]);
format_error({extend_unknown_release, N, E, V}) ->
    io_lib:format("Release ~p extends ~p ~tp, which is not configured before it in the relx configuration", [N, E, V]);
format_error({bad_goal, G}) -> io_lib:format("Not an application of a release in the relx configuration: ~tp", [G]);
format_error({bad_release, T}) -> io_lib:format("Not a release in the relx configuration: ~tp", [T]);
format_error({not_a_list, T}) -> io_lib:format("The relx configuration is not a list: ~tp", [T]);
format_error({bad_hook_phase, P}) ->
    io_lib:format("relx configuration: ~tp is not a phase of extended_start_script_hooks (pre_start, post_start, "
                  "pre_stop, post_stop, pre_install_upgrade, post_install_upgrade, status, {pre, Command, Hooks} "
                  "or {post, Command, Hooks})", [P]);
format_error({bad_hook, P, H}) ->
    io_lib:format("relx configuration: ~tp (~ts in extended_start_script_hooks) is not a hook (pid, {pid, File}, "
                  "wait_for_vm_start, {wait_for_process, Name}, builtin_status or {custom, Script})", [H, phase(P)]);
format_error({hook_not_allowed, P, H}) ->
    io_lib:format("relx configuration: ~tp cannot run in ~ts (extended_start_script_hooks): ~ts", [H, phase(P), allowed(H)]);
format_error({hook_after_exec, C}) ->
    io_lib:format("relx configuration: {post, ~p, ...} in extended_start_script_hooks would never run: "
                  "~p replaces the start script with the VM or a shell", [C, C]);
format_error({unknown_command, K, C}) ->
    io_lib:format("relx configuration: ~p (in ~p) is neither a command of the start script nor an extension", [C, K]);
format_error({extension_shadows, N}) ->
    io_lib:format("relx configuration: extension ~p (extended_start_script_extensions) has the name of a "
                  "built-in command of the start script", [N]);
format_error({bad_value, K, V}) ->
    io_lib:format("relx configuration: ~tp is not a valid value for ~p (~ts)", [V, K, expected(K)]).

expected(K) when K =:= include_erts; K =:= system_libs -> "true, false or a directory";
expected(K) when K =:= vm_args; K =:= sys_config -> "a file name or false";
expected(K) when K =:= vm_args_src; K =:= sys_config_src -> "a file name";
expected(debug_info) -> "keep or strip";
expected(mode) -> "dev, prod or minimal";
expected(K) when K =:= overlay_vars; K =:= lib_dirs -> "a list of file names";
expected(overlay) -> "a list of overlay instructions";
expected(overlay_vars_values) -> "a list of {Name, Value}";
expected(exclude_apps) -> "a list of application names";
expected(exclude_modules) -> "a list of {App, [Module]}";
expected(extended_start_script_extensions) -> "a list of {Command, Script}, Command made of letters, digits and _";
expected(extended_start_script_commands) -> "all or a list of commands";
expected(extended_start_script_hooks) -> "a list of {Phase, [Hook]}";
expected(_) -> "true or false".

phase({When, C}) -> io_lib:format("{~p, ~p, ...}", [When, C]);
phase(P) -> atom_to_list(P).

allowed(builtin_status) -> "it runs in status only";
allowed(_) -> "pid, wait_for_vm_start and wait_for_process run in post_start only, around a command only {custom, Script}".
