%% SPDX-License-Identifier: Apache-2.0
%% @doc relnif's options: systools' checks (which options are rejected, in the order
%% given), the reading of each option as systools reads it (only the first of a key
%% counts), `{path, Dirs}' wildcard expansion, and the argument lists the NIF takes, with
%% what depends on the running VM (code path, current directory, OTP release, preloaded
%% modules) asked of the VM here.
-module(fastrel_opts).

-export([is_proper/1, bad_script_options/1, bad_tar_options/1, relup_bad_outdir/1,
         rel_name_error/1, file_bin/1, bin/1, flat_name/1,
         script_args/2, tar_args/2, tar_files_args/3, relup_args/4, relup_opt/2, relup_file/1,
         xref_apps/1, expand_path/1, otp_major/0]).

%%% ---------------------------------------------------------------- checks

%% @doc Whether `L' is a proper list. systools walks option lists with clauses for `[]'
%% and `[_ | _]' only, so an improper one raises function_clause there, before anything
%% is read; relnif raises the same.
-spec is_proper(term()) -> boolean().
is_proper([_ | T]) -> is_proper(T);
is_proper(T) -> T =:= [].

%% @doc Every option `make_script/2' rejects, in the order given (systools'
%% check_args_script/1).
-spec bad_script_options([term()]) -> [term()].
bad_script_options(Opts) ->
    [O || O <- Opts, not valid_option(O)].

%% @doc Every option `make_tar/2' rejects, in the order given (systools'
%% check_args_tar/1, plus fastrel's compression_level, reproducible, follow_symlinks and
%% symlinks).
-spec bad_tar_options([term()]) -> [term()].
bad_tar_options(Opts) ->
    [O || O <- Opts, not valid_tar_option(O)].

valid_option(O) when O =:= silent; O =:= local; O =:= src_tests; O =:= exref;
                     O =:= otp_build; O =:= warnings_as_errors; O =:= no_warn_sasl;
                     O =:= no_module_tests; O =:= no_dot_erlang -> true;
valid_option({path, P}) when is_list(P) -> lists:all(fun is_list/1, P);
valid_option({variables, V}) when is_list(V) -> valid_vars(V);
valid_option({exref, Apps}) when is_list(Apps) -> atom_list(Apps);
valid_option({outdir, D}) when is_list(D) -> true;
valid_option({script_name, N}) when is_list(N) -> true;
valid_option(_) -> false.

valid_tar_option(O) when O =:= silent; O =:= src_tests; O =:= exref; O =:= otp_build;
                         O =:= warnings_as_errors; O =:= no_warn_sasl; O =:= no_module_tests;
                         O =:= erts_all -> true;
valid_tar_option({path, P}) when is_list(P) -> lists:all(fun is_list/1, P);
valid_tar_option({variables, V}) when is_list(V) -> valid_vars(V);
valid_tar_option({exref, Apps}) when is_list(Apps) -> atom_list(Apps);
valid_tar_option({outdir, D}) when is_list(D) -> true;
valid_tar_option({dirs, Ds}) when is_list(Ds) -> atom_list(Ds);
valid_tar_option({erts, D}) when is_list(D) -> true;
valid_tar_option({var_tar, V}) when V =:= include; V =:= ownfile; V =:= omit -> true;
valid_tar_option({extra_files, F}) when is_list(F) -> true;
valid_tar_option({compression_level, L}) when is_integer(L), L >= 0, L =< 9 -> true;
valid_tar_option({reproducible, B}) when is_boolean(B) -> true;
valid_tar_option({follow_symlinks, F}) when F =:= inside; F =:= outside -> true;
valid_tar_option({symlinks, S}) when S =:= follow; S =:= beside -> true;
valid_tar_option(_) -> false.

atom_list([A | T]) when is_atom(A) -> atom_list(T);
atom_list(L) -> L =:= [].

valid_vars([]) -> true;
valid_vars([{N, D} | T]) when (is_atom(N) orelse is_list(N)), is_list(D) -> valid_vars(T);
valid_vars(_) -> false.

%% @doc systools_relup's check_opts/1: only the first `{outdir, _}' is looked at; `[]'
%% or the bad option in a list.
-spec relup_bad_outdir([term()]) -> [term()].
relup_bad_outdir([{outdir, Dir} | _]) when is_list(Dir) -> [];
relup_bad_outdir([{outdir, Bad} | _]) -> [{outdir, Bad}];
relup_bad_outdir([_ | Opts]) -> relup_bad_outdir(Opts);
relup_bad_outdir([]) -> [].

%% @doc `none', or the error systools gives for a release name before reading anything.
%% systools reads `RelName ++ ".rel"': for an improper list that `++' raises, and systools
%% returns the crash (with its stack) as its error, here `{bad_rel_name, Name}'; a name
%% that is no file name (a character above 16#10FFFF) cannot be opened, `not_found' in
%% systools too.
-spec rel_name_error(list()) -> none | {bad_rel_name, term()} | {not_found, term()}.
rel_name_error(Name) ->
    case is_proper(Name) of
        false -> {bad_rel_name, Name};
        true ->
            case file_bin(Name) of
                {ok, _} -> none;
                error -> {not_found, Name ++ ".rel"}
            end
    end.

%% @doc A file name as the NIF takes it, or `error' for a term no file can be named by.
-spec file_bin(term()) -> {ok, binary()} | error.
file_bin(Name) ->
    try bin(filename:flatten(Name)) of
        B when is_binary(B) -> {ok, B};
        _ -> error
    catch
        error:_ -> error
    end.

%% @doc A name in the file name encoding, as the NIF takes names.
-spec bin(binary() | string()) -> binary() | {error | incomplete, term(), term()}.
bin(S) when is_binary(S) -> S;
bin(S) -> unicode:characters_to_binary(S, unicode, file:native_name_encoding()).

%% @doc A (possibly deep) name made flat.
-spec flat_name(list()) -> string().
flat_name(Name) ->
    case lists:all(fun is_integer/1, Name) of
        true -> Name;
        false -> filename:flatten(Name)
    end.

%%% ---------------------------------------------------------------- NIF arguments

%% @doc What `make_script/2' gives the NIF (the options already checked).
-spec script_args(list(), [term()]) -> {[{atom(), term()}], [string()]}.
script_args(RelName0, Opts) ->
    RelName = flat_name(RelName0),
    Output = filename:flatten(output_name(RelName0, Opts)),
    Path = make_set(expand_path(option(path, Opts, [])) ++ code:get_path()),
    Base = [{rel_name, bin(RelName)}, {output, bin(Output)},
            {path, [bin(P) || P <- Path]},
            {mode, path_mode(Opts)},
            {variables, variables(Opts)},
            {unicode_range, io:printable_range() =:= unicode},
            {cwd, bin(cwd())}
            | [{F, lists:member(F, Opts)}
               || F <- [no_dot_erlang, src_tests, no_warn_sasl, warnings_as_errors]]
              ++ vm_facts()],
    {Base, Path}.

%% @doc What `make_tar/2' gives the NIF (the options already checked).
-spec tar_args(list(), [term()]) -> {[{atom(), term()}], [string()]}.
tar_args(RelName0, Opts) ->
    RelName = flat_name(RelName0),
    TarFile = filename:flatten(tar_name(RelName0, Opts)) ++ ".tar.gz",
    UserPath = make_set(expand_path(option(path, Opts, []))),
    Path = make_set(UserPath ++ code:get_path()),
    Erts = case get_flag(erts, Opts) of
               {erts, E} when is_list(E) -> [{erts, bin(rm_trailing_slash(filename:flatten(E)))}];
               _ -> []
           end,
    Base = [{rel_name, bin(RelName)}, {output, bin(TarFile)}, {tar_file, bin(TarFile)},
            {path, [bin(P) || P <- Path]},
            {sys_path, [bin(P) || P <- UserPath]},
            {mode, path_mode(Opts)},
            {variables, variables(Opts)},
            {dirs, [bin(atom_to_list(D)) || D <- option(dirs, Opts, [])]},
            {extra_files, [{bin(filename:flatten(F)), bin(filename:flatten(T))}
                           || {F, T} <- option(extra_files, Opts, [])]},
            {var_tar, case get_flag(var_tar, Opts) of {var_tar, V} -> V; false -> include end},
            {erts_all, lists:member(erts_all, Opts)},
            {compression_level, compression_level(Opts)},
            {follow_symlinks, follow_symlinks(Opts)},
            {symlinks, symlinks(Opts)},
            {unicode_range, io:printable_range() =:= unicode},
            {cwd, bin(cwd())}
            | Erts ++ reproducible(Opts)
              ++ [{F, lists:member(F, Opts)} || F <- [src_tests, no_warn_sasl, warnings_as_errors]]
              ++ vm_facts() ++ tar_facts()],
    {Base, Path}.

%% @doc What `tar_files/3' gives the NIF (proper lists checked).
-spec tar_files_args(file:filename(), [{file:filename(), string()}], [term()]) -> tuple().
tar_files_args(Out, Entries, Opts) ->
    Repro = case reproducible(Opts) of [{reproducible, T}] -> T; [] -> false end,
    {bin(filename:flatten(Out)), [{bin(filename:flatten(F)), bin(T)} || {F, T} <- Entries],
     compression_level(Opts), Repro, follow_symlinks(Opts), symlinks(Opts)}.

%% @doc What `make_relup/4' gives the NIF, and the base descriptions by position.
-spec relup_args(atom() | string(), term(), term(), [term()]) -> {[{atom(), term()}], {list(), list()}}.
relup_args(TopRel, UpFrom, DownTo, Opts) ->
    %% In systools' order: the code path is read before the top release is named.
    Path = relup_path(Opts),
    Top = rel_file(TopRel),
    {Up, UpDescrs} = base_rels(UpFrom),
    {Dn, DnDescrs} = base_rels(DownTo),
    Args = [{top, bin(Top)},
            {up, Up},
            {dn, Dn},
            {path, [bin(P) || P <- Path]},
            {restart_emulator, relup_opt(restart_emulator, Opts) =:= true},
            {otp_major, otp_major()}],
    {Args, {UpDescrs, DnDescrs}}.

%% @doc Where `make_relup/4' writes `relup' (systools' `outdir', `.' by default).
-spec relup_file([term()]) -> file:filename().
relup_file(Opts) ->
    filename:join(filename:absname(relup_opt(outdir, Opts)), "relup").

%% `{compression_level, _}' is checked by make_tar/2 only: tar_files/3 falls back on
%% systools' level for a value that is no integer.
compression_level(Opts) ->
    case get_flag(compression_level, Opts) of
        {_, L} when is_integer(L) -> L;
        _ -> 6
    end.

follow_symlinks(Opts) ->
    element(2, get_flag(follow_symlinks, Opts ++ [{follow_symlinks, inside}])).

symlinks(Opts) ->
    element(2, get_flag(symlinks, Opts ++ [{symlinks, follow}])).

%% systools matches prefixes with lists:prefix/2, which a deep list never passes; such a
%% variable can only fall through to $ROOT.
variables(Opts) ->
    [{bin(filename:flatten(to_list(V))), bin(rm_trailing_slash(P))}
     || {V, P} <- option(variables, Opts, []), is_flat(P)].

tar_name(RelName, Opts) ->
    case get_flag(outdir, Opts) of
        {outdir, Dir} when is_list(Dir), Dir =/= "" -> filename:join(Dir, filename:basename(RelName));
        _ -> RelName
    end.

output_name(RelName, Opts) ->
    Script = case get_flag(script_name, Opts) of
                 {script_name, S} when is_list(S) -> S;
                 _ -> RelName
             end,
    case get_flag(outdir, Opts) of
        {outdir, Dir} when is_list(Dir), Dir =/= "" -> filename:join(Dir, filename:basename(Script));
        _ -> Script
    end.

reproducible(Opts) ->
    Epoch = case os:getenv("SOURCE_DATE_EPOCH") of
                false -> false;
                S -> try list_to_integer(string:trim(S)) catch _:_ -> false end
            end,
    case {get_flag(reproducible, Opts), Epoch} of
        {{reproducible, true}, false} -> [{reproducible, 0}];
        {{reproducible, false}, _} -> [];
        {_, N} when is_integer(N), N >= 0 -> [{reproducible, N}];
        _ -> []
    end.

path_mode(Opts) ->
    case {lists:member(local, Opts), lists:member(otp_build, Opts)} of
        {true, _} -> local;
        {_, true} -> otp_build;
        _ -> root
    end.

%% @doc `false', or what exref asks for (`true', or `{true, Apps}') when xref is there.
-spec xref_apps([term()]) -> false | true | {true, [atom()]}.
xref_apps(Opts) ->
    Wanted = case lists:member(exref, Opts) of
                 true -> true;
                 false ->
                     case get_flag(exref, Opts) of
                         {exref, Apps} when is_list(Apps) -> {true, Apps};
                         _ -> false
                     end
             end,
    case Wanted =/= false andalso code:ensure_loaded(xref) of
        {module, xref} -> Wanted;
        _ -> false
    end.

option(Key, Opts, Default) ->
    case get_flag(Key, Opts) of
        {Key, V} when is_list(V) -> V;
        _ -> Default
    end.

get_flag(F, [{F, D} | _]) -> {F, D};
get_flag(F, [_ | Fs]) -> get_flag(F, Fs);
get_flag(_, _) -> false.

%%% ---------------------------------------------------------------- make_relup

rel_file(A) when is_atom(A) -> atom_to_list(A);
rel_file(L) when is_list(L) -> L.

%% Each base as `{Name, I}', or `bad' where systools would crash on it (the NIF
%% raises when it gets there, after the errors systools would report first), and the
%% descriptions by position: the NIF puts `I' where the description goes and it is
%% put back by the caller, so a description can be any term, however deep.
base_rels(L) -> base_rels(L, 1, [], []).
base_rels([], _, Acc, Ds) -> {lists:reverse(Acc), lists:reverse(Ds)};
base_rels([{N, D} | T], I, Acc, Ds) -> base_rels(T, I + 1, [base_rel(N, I) | Acc], [D | Ds]);
base_rels([N | T], I, Acc, Ds) -> base_rels(T, I + 1, [base_rel(N, I) | Acc], [[] | Ds]);
base_rels(_, _, Acc, Ds) -> {lists:reverse([bad | Acc]), lists:reverse(Ds)}.

base_rel(N, I) when is_atom(N) -> {bin(atom_to_list(N)), I};
base_rel(N, I) when is_list(N) ->
    case is_proper(N) andalso file_bin(N) of
        {ok, B} -> {B, I};
        _ -> bad
    end;
base_rel(_, _) -> bad.

%% @doc systools_relup's get_opt/2.
-spec relup_opt(atom(), [term()]) -> term().
relup_opt(Opt, Opts) ->
    case lists:keysearch(Opt, 1, Opts) of
        {value, {_, Val}} -> Val;
        _ ->
            case lists:member(Opt, Opts) of
                true -> true;
                _ -> relup_default(Opt)
            end
    end.

relup_default(path) -> false;
relup_default(noexec) -> false;
relup_default(silent) -> false;
relup_default(restart_emulator) -> false;
relup_default(outdir) -> ".";
relup_default(warnings_as_errors) -> false.

relup_path(Opts) ->
    case relup_opt(path, Opts) of
        false -> code:get_path();
        Paths0 ->
            Paths1 = [rel_file(P) || P <- Paths0],
            relup_set(expand_path(Paths1) ++ code:get_path())
    end.

relup_set([]) -> [];
relup_set([H | T]) -> [H | [Y || Y <- relup_set(T), Y =/= H]].

%%% ---------------------------------------------------------------- search path

%% @doc `{path, Dirs}' expansion as systools_lib:get_path/1: a component that is exactly
%% `*' matches one or more characters, a `*' inside a component matches any run of
%% characters; other characters are regular-expression syntax, as in systools. A match
%% must cover the whole directory entry; entries come in directory order; non-directories
%% and missing fixed components drop out silently.
-spec expand_path([atom() | string()]) -> [string()].
expand_path(Dirs) ->
    lists:append([expand_one(to_list(D)) || D <- Dirs]).

expand_one(Dir) ->
    try
        components(filename:split(Dir), [], true)
    catch
        _:_ -> []
    end.

components([], Found, _Root) -> Found;
components([C | Cs], Found, Root) ->
    Next = case lists:member($*, C) of
               false -> fixed(C, Found, Root);
               true -> wild(regex(C), Found, Root)
           end,
    components(Cs, Next, false).

fixed(Name, [], true) ->
    [Name || is_dir(Name)];
fixed(Name, Dirs, _) ->
    [D || D0 <- Dirs, D <- [filename:join(D0, Name)], is_dir(D)].

wild(Re, [], true) -> matches(Re, ".", true);
wild(Re, Dirs, _) -> lists:append([matches(Re, D, false) || D <- Dirs]).

matches(Re, Dir, Root) ->
    case {file:list_dir(Dir), re:compile(Re, [unicode])} of
        {{ok, Names}, {ok, MP}} ->
            [Full || Name <- Names,
                     re:run(Name, MP, [{capture, first, list}]) =:= {match, [Name]},
                     Full <- [case Root of true -> Name; false -> filename:join(Dir, Name) end],
                     is_dir(Full)];
        _ -> []
    end.

regex("*") -> "[^/]+";
regex(C) -> lists:append([case Ch of $* -> "[^/]*"; _ -> [Ch] end || Ch <- C]).

is_dir(D) -> filelib:is_dir(D).

make_set(L) -> make_set(L, #{}).
make_set([], _) -> [];
make_set(["" | T], Seen) -> make_set(T, Seen);
make_set([H | T], Seen) when is_map_key(H, Seen) -> make_set(T, Seen);
make_set([H | T], Seen) -> [H | make_set(T, Seen#{H => true})].

%%% ---------------------------------------------------------------- the VM

%% @doc The running OTP release's major number.
-spec otp_major() -> pos_integer().
otp_major() ->
    list_to_integer(erlang:system_info(otp_release)).

%% What systools' output depends on in the running VM, asked of the VM rather than kept
%% in a table: its release and its preloaded modules (systools' {preLoaded, ...} list
%% equals erlang:pre_loaded() on OTP 25 to 29). Map key order is asked of the VM by the
%% NIF itself.
vm_facts() ->
    remembered(vm_facts, fun() ->
        [{otp_major, otp_major()},
         {preloaded, [bin(atom_to_list(M)) || M <- lists:sort(erlang:pre_loaded())]}]
    end).

%% Whether this VM's systools packs .appup files (sasl 4.3, OTP 28). Only make_tar needs
%% it, and finding out loads sasl's .app (and with it epp): a first make_script would pay
%% a few milliseconds for nothing.
tar_facts() ->
    remembered(tar_facts, fun() -> [{appups, vsn_at_least(app_vsn(sasl), [4, 3])}] end).

remembered(Key, Make) ->
    case persistent_term:get({?MODULE, Key}, undefined) of
        undefined ->
            Facts = Make(),
            persistent_term:put({?MODULE, Key}, Facts),
            Facts;
        Facts -> Facts
    end.

app_vsn(App) ->
    _ = application:load(App),
    case application:get_key(App, vsn) of
        {ok, Vsn} -> Vsn;
        undefined -> "0"
    end.

vsn_at_least(Vsn, Min) ->
    Parts = [try list_to_integer(P) catch error:badarg -> 0 end || P <- string:lexemes(Vsn, ".")],
    Parts >= Min.

cwd() ->
    {ok, Cwd} = file:get_cwd(),
    Cwd.

to_list(A) when is_atom(A) -> atom_to_list(A);
to_list(L) -> L.

rm_trailing_slash(P) -> lists:reverse(drop_slashes(lists:reverse(P))).
drop_slashes([$/ | T]) -> drop_slashes(T);
drop_slashes(T) -> T.

is_flat([C | T]) when is_integer(C) -> is_flat(T);
is_flat(L) -> L =:= [].
