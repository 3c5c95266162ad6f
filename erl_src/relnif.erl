%% SPDX-License-Identifier: Apache-2.0
%% @doc A drop-in for `systools:make_script/1,2' and `systools:script2boot/1' whose
%% file work runs in Rust on a dirty IO scheduler.
%%
%% What depends on the running VM stays here: option checking (so bad options raise
%% `badarg' exactly as systools does), the code path, `{path, ...}' wildcard expansion,
%% `exref' (xref) and printing. Results are systools' terms with `relnif' in place of
%% `systools_make'; `format_error/1' gives systools' texts.
-module(relnif).

-export([make_script/1, make_script/2, make_tar/1, make_tar/2, make_relup/3, make_relup/4, tar_files/3, script2boot/1, script2boot_silent/1, boot2script/1, boot2script/2,
         format_error/1, format_warning/1, consult/1, nif_path/0, scheduler_probe/0]).

-on_load(init/0).

-include_lib("kernel/include/file.hrl").

-define(APP, fastrel).
-define(LIB, "relnif_nif").
%% The Rust reader's MAX_BINARY_BITS (16 MiB): no larger binary literal is built here.
-define(MAX_BINARY_BITS, (1 bsl 27)).

-type warning() :: {warning, term()}.
-type rel_dc() :: atom() | string() | {atom() | string(), term()}.
-type result() :: ok | error | {ok, relnif, [warning()]} | {error, relnif, term()}.
-export_type([result/0]).

%%% ---------------------------------------------------------------- API

%% @doc As `systools:make_script/1'. `make_script([Rel | Opts])' with an atom `Rel' is the
%% form `erl -s relnif make_script rel opt...' produces.
-spec make_script(string() | [atom()]) -> result().
make_script([RelName | Opts]) when is_atom(RelName) ->
    make_script([RelName], Opts);
make_script(RelName) when is_list(RelName) ->
    make_script(RelName, []);
make_script(RelName) ->
    erlang:error({badarg, RelName}, [RelName]).

%% @doc As `systools:make_script/2', with the same options and results.
-spec make_script(string(), [term()]) -> result().
make_script(RelName, Opts) when is_list(RelName), is_list(Opts) ->
    proper_options(RelName, Opts),
    case bad_options(Opts) of
        [] -> run(RelName, Opts);
        Bad -> erlang:error({badarg, Bad}, [RelName, Opts])
    end;
make_script(RelName, Opts) when is_list(Opts) ->
    erlang:error({badarg, RelName}, [RelName, Opts]);
make_script(RelName, Opts) ->
    erlang:error({badarg, Opts}, [RelName, Opts]).

%% @doc As `systools:make_tar/1'.
-spec make_tar(string() | [atom()]) -> result().
make_tar([RelName | Opts]) when is_atom(RelName) ->
    make_tar([RelName], Opts);
make_tar(RelName) when is_list(RelName) ->
    make_tar(RelName, []);
make_tar(RelName) ->
    erlang:error({badarg, RelName}, [RelName]).

%% @doc As `systools:make_tar/2', with the same options and results, plus:
%% `{compression_level, 0..9}' (default 6, systools' level) and `{reproducible, true}'
%% (also on when `SOURCE_DATE_EPOCH' is set): sorted entries, every mtime set to
%% `SOURCE_DATE_EPOCH' (or 0), owner 0/0, so two runs give the same bytes. Compression
%% runs on every core; the tar inside is systools', the gzip stream is not byte-identical.
%% Unlike systools it refuses entries named outside the root (absolute or `..'), symlinks
%% inside a packed directory that point out of it (`{follow_symlinks, outside}' packs
%% their targets) and files whose size changes while read; modes lose group/world write.
%% `{symlinks, beside}' packs a symlink to a file beside it as a link, not a copy (systools
%% copies; fastrel's releases use it for their programs, one executable under three names).
-spec make_tar(string(), [term()]) -> result().
make_tar(RelName, Opts) when is_list(RelName), is_list(Opts) ->
    proper_options(RelName, Opts),
    case [O || O <- Opts, not valid_tar_option(O)] of
        [] -> run_tar(RelName, Opts);
        Bad -> erlang:error({badarg, Bad}, [RelName, Opts])
    end;
make_tar(RelName, Opts) when is_list(Opts) ->
    erlang:error({badarg, RelName}, [RelName, Opts]);
make_tar(RelName, Opts) ->
    erlang:error({badarg, Opts}, [RelName, Opts]).

%% @doc Packs `[{From, To}]' (files or directories, recursively, symlinks followed) into
%% the gzip tarball `Out', in that order, compressed on every core. Options:
%% `{compression_level, 0..9}', `{reproducible, true}' (or `SOURCE_DATE_EPOCH'),
%% `{follow_symlinks, outside}' and `{symlinks, beside}' (as in `make_tar/2'; the same
%% refusals apply).
-spec tar_files(file:filename(), [{file:filename(), string()}], [term()]) -> ok | {error, relnif, term()}.
tar_files(_Out, Entries, Opts) when not is_list(Opts); not is_list(Entries) ->
    {error, relnif, {bad_tar_files_args, Entries, Opts}};
tar_files(Out, Entries, Opts) ->
    case is_proper(Opts) andalso is_proper(Entries) of
        true -> tar_files_run(Out, Entries, Opts);
        false -> {error, relnif, {bad_tar_files_args, Entries, Opts}}
    end.

tar_files_run(Out, Entries, Opts) ->
    Level = case get_flag(compression_level, Opts) of {_, L} when is_integer(L) -> L; _ -> 6 end,
    Repro = case reproducible(Opts) of [{reproducible, T}] -> T; [] -> false end,
    Args = {bin(filename:flatten(Out)), [{bin(filename:flatten(F)), bin(T)} || {F, T} <- Entries], Level, Repro,
            element(2, get_flag(follow_symlinks, Opts ++ [{follow_symlinks, inside}])),
            element(2, get_flag(symlinks, Opts ++ [{symlinks, follow}]))},
    case decode(nif_tar_files(term_to_binary(Args))) of
        {ok, ok} -> ok;
        {error, E} -> {error, relnif, E}
    end.

%% @doc As `systools:script2boot/1': `File.script' to `File.boot'.
-spec script2boot(string()) -> ok | error.
script2boot(File) ->
    case script2boot_silent(File) of
        ok -> ok;
        {error, relnif, E} ->
            io:format("~ts", [format_error(E)]),
            error
    end.

%% @doc `script2boot/1' returning the reason instead of printing it.
-spec script2boot_silent(string()) -> ok | {error, relnif, term()}.
script2boot_silent(File) ->
    case file_bin(File) of
        {ok, Bin} ->
            case decode(nif_script2boot(Bin, otp_major())) of
                {ok, ok} -> ok;
                {error, E} -> {error, relnif, refine(E)}
            end;
        %% systools' file:open/2 of File ++ ".script" gives badarg for such a name.
        error -> {error, relnif, {open, File ++ ".script", badarg}}
    end.

%% @doc The `.script' text of a `.boot' file (the reverse of `script2boot/1').
-spec boot2script(file:filename()) -> {ok, unicode:unicode_binary()} | {error, relnif, term()}.
boot2script(BootFile) ->
    case file_bin(BootFile) of
        {ok, Bin} ->
            case decode(nif_boot2script(Bin, otp_major(), io:printable_range() =:= unicode)) of
                {ok, Text} -> {ok, Text};
                {error, E} -> {error, relnif, E}
            end;
        error -> {error, relnif, {open, BootFile, badarg}}
    end.

%% @doc Writes the `.script' text of `BootFile' to `ScriptFile'.
-spec boot2script(file:filename(), file:filename()) -> ok | {error, relnif, term()}.
boot2script(BootFile, ScriptFile) ->
    case boot2script(BootFile) of
        {ok, Text} ->
            case file:write_file(ScriptFile, Text) of
                ok -> ok;
                {error, R} -> {error, relnif, {open, ScriptFile, R}}
            end;
        Error -> Error
    end.

%% @doc `file:consult/1' through fastrel's Rust reader (used to test the reader).
-spec consult(file:filename()) -> {ok, [term()]} | {error, term()}.
consult(File) ->
    decode(nif_consult(bin(File))).

%% @doc Which scheduler kind runs relnif's file work (3 = dirty IO).
-spec scheduler_probe() -> integer().
scheduler_probe() -> nif_scheduler_probe().

%%% ---------------------------------------------------------------- make_relup

%% @doc As `systools:make_relup/3'.
-spec make_relup(atom() | string(), [rel_dc()], [rel_dc()]) ->
          ok | error | {ok, term(), relnif, [term()]} | {error, relnif, term()}.
make_relup(TopRel, UpFrom, DownTo) ->
    make_relup(TopRel, UpFrom, DownTo, []).

%% @doc As `systools:make_relup/4', with the same options, results, printing and
%% crashes (only `outdir' is validated; unknown options are ignored). Results name
%% `relnif' where systools names `systools_relup', `systools_rc' or `systools_make'.
-spec make_relup(atom() | string(), [rel_dc()], [rel_dc()], [term()]) ->
          ok | error | {ok, term(), relnif, [term()]} | {error, relnif, term()}.
make_relup(TopRel, UpFrom, DownTo, Opts) ->
    case relup_bad_outdir(Opts) of
        [] when is_list(TopRel) ->
            case rel_name_error(TopRel) of
                %% A list with atoms in it names no file for systools_relup either.
                none ->
                    case lists:all(fun is_integer/1, lists:flatten(TopRel)) of
                        true -> relup_run(TopRel, UpFrom, DownTo, Opts);
                        false -> relup_done(Opts, {error, relnif, {not_found, TopRel ++ ".rel"}})
                    end;
                Reason -> relup_done(Opts, {error, relnif, Reason})
            end;
        [] ->
            relup_run(TopRel, UpFrom, DownTo, Opts);
        Bad ->
            erlang:error({badarg, Bad})
    end.

relup_run(TopRel, UpFrom, DownTo, Opts) ->
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
    Result = case relup_call(Args, [], 16) of
                 {ok, {Vsn, UpRUs, DnRUs}, Ws} ->
                     {ok, {Vsn, descrs(UpRUs, UpDescrs), descrs(DnRUs, DnDescrs)}, Ws};
                 Other -> Other
             end,
    relup_done(Opts, Result).

%% systools' check_opts/1: only the first `{outdir, _}' is looked at.
relup_bad_outdir([{outdir, Dir} | _]) when is_list(Dir) -> [];
relup_bad_outdir([{outdir, Bad} | _]) -> [{outdir, Bad}];
relup_bad_outdir([_ | Opts]) -> relup_bad_outdir(Opts);
relup_bad_outdir([]) -> [].

rel_file(A) when is_atom(A) -> atom_to_list(A);
rel_file(L) when is_list(L) -> L.

%% Each base as `{Name, I}', or `bad' where systools would crash on it (the NIF
%% raises when it gets there, after the errors systools would report first), and the
%% descriptions by position: the NIF puts `I' where the description goes and it is
%% put back here, so a description can be any term, however deep.
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

descrs(RUs, Descrs) ->
    [{Vsn, lists:nth(I, Descrs), Instrs} || {Vsn, I, Instrs} <- RUs].

%% systools' get_opt/2.
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

%% Runs the NIF, answering what it asks of the VM (regex matches, digraph orders).
relup_call(Args, Answers, N) ->
    case decode(nif_make_relup(term_to_binary([{answers, Answers} | Args]))) of
        {need, Qs} when N > 0 ->
            relup_call(Args, Answers ++ [{Q, relup_answer(Q)} || Q <- Qs], N - 1);
        {need, _} ->
            {error, relnif, {bad_options, "queries still unanswered"}};
        {raise, Class, Reason} ->
            erlang:raise(Class, Reason, []);
        {ok, Relup, Ws} ->
            {ok, Relup, Ws};
        {error, _Mod, Reason} ->
            {error, relnif, refine_relup(Reason)}
    end.

relup_answer({re, Subject, Re}) ->
    try re:run(Subject, Re, [unicode, {capture, first, list}]) of
        {match, [Subject]} -> true;
        _ -> false
    catch
        error:badarg -> badarg
    end;
relup_answer({deps, VDs, Roots}) ->
    fastrel_relup_order:components(VDs, Roots);
relup_answer(_) ->
    undefined.

refine_relup({file_problem, {File, {error, {parse, PFile, {_, fastrel_reader, _} = Ours}}}}) ->
    case erl_parse_error(PFile) of
        {ok, Theirs} -> {file_problem, {File, {error, {parse, PFile, Theirs}}}};
        none -> {file_problem, {File, {error, {parse, PFile, Ours}}}}
    end;
refine_relup(Reason) ->
    refine(Reason).

%% systools_relup's done_mk_relup/2, with its crashes on odd option values.
relup_done(Opts, {ok, Relup, Ws}) ->
    WAE = relup_opt(warnings_as_errors, Opts),
    Silent = relup_opt(silent, Opts),
    Noexec = relup_opt(noexec, Opts),
    if WAE andalso Ws =/= [] ->
            relup_error(Silent, {error, relnif, {warnings_treated_as_errors, Ws}});
       not Noexec ->
            case write_relup(Relup, Opts) of
                ok -> relup_ok(Silent, Relup, Ws);
                Error -> relup_error(Silent, Error)
            end;
       true ->
            relup_ok(true, Relup, Ws)
    end;
relup_done(Opts, Error) ->
    relup_error(relup_opt(silent, Opts) orelse relup_opt(noexec, Opts), Error).

relup_error(true, Error) -> Error;
relup_error(false, {error, relnif, Reason}) ->
    io:format("~ts", [format_error(Reason)]),
    error.

relup_ok(true, Relup, Ws) -> {ok, Relup, relnif, Ws};
relup_ok(false, _Relup, Ws) ->
    lists:foreach(fun(W) -> io:format("~ts", [format_warning(W)]) end, Ws),
    ok.

write_relup(Relup, Opts) ->
    File = filename:join(filename:absname(relup_opt(outdir, Opts)), "relup"),
    Args = {bin(File), Relup, io:printable_range() =:= unicode, otp_major()},
    case decode(nif_write_relup(term_to_binary(Args))) of
        {ok, ok} -> ok;
        {error, Posix} when is_atom(Posix) -> {error, relnif, {file_problem, {"relup", {open, Posix}}}};
        {error, {unsupported, _}} -> write_relup_here(File, Relup)
    end.

%% For a relup the NIF does not print (a pid, port, reference or fun in a description,
%% or a term nested deeper than the NIF reads): as systools writes it, through a
%% temporary file.
write_relup_here(File, Relup) ->
    Tmp = filename:join(filename:dirname(File),
                        ".relup.tmp" ++ os:getpid() ++ "." ++ integer_to_list(erlang:unique_integer([positive]))),
    case file:open(Tmp, [write, {encoding, utf8}]) of
        {ok, Fd} ->
            io:format(Fd, "%% ~s~n~tp.~n", [epp:encoding_to_string(utf8), Relup]),
            case file:close(Fd) of
                ok ->
                    case file:rename(Tmp, File) of
                        ok -> ok;
                        {error, R} ->
                            _ = file:delete(Tmp),
                            {error, relnif, {file_problem, {"relup", {open, R}}}}
                    end;
                {error, R} ->
                    _ = file:delete(Tmp),
                    {error, relnif, {file_problem, {"relup", {close, R}}}}
            end;
        {error, R} ->
            {error, relnif, {file_problem, {"relup", {open, R}}}}
    end.

%%% ---------------------------------------------------------------- make_script

run(RelName0, Opts) ->
    case rel_name_error(RelName0) of
        none -> run_script(RelName0, Opts);
        Reason -> report({error, Reason}, Opts)
    end.

run_script(RelName0, Opts) ->
    RelName = flat_name(RelName0),
    Output = filename:flatten(output_name(RelName0, Opts)),
    Path = make_set(expand_path(option(path, Opts, [])) ++ code:get_path()),
    Base = [{rel_name, bin(RelName)}, {output, bin(Output)},
            {path, [bin(P) || P <- Path]},
            {mode, path_mode(Opts)},
            %% systools matches prefixes with lists:prefix/2, which a deep list never
            %% passes; such a variable can only fall through to $ROOT.
            {variables, [{bin(filename:flatten(to_list(V))), bin(rm_trailing_slash(P))}
                         || {V, P} <- option(variables, Opts, []), is_flat(P)]},
            {unicode_range, io:printable_range() =:= unicode},
            {cwd, bin(cwd())}
            | [{F, lists:member(F, Opts)}
               || F <- [no_dot_erlang, src_tests, no_warn_sasl, warnings_as_errors]]
              ++ vm_facts()],
    Result = case xref_apps(Opts) of
                 false -> call(Base);
                 XrefP -> with_exref(Base, Path, XrefP)
             end,
    report(as_named(RelName0, RelName, refine(Result)), Opts).

run_tar(RelName0, Opts) ->
    case rel_name_error(RelName0) of
        none -> run_tar_checked(RelName0, Opts);
        Reason -> report({error, Reason}, Opts)
    end.

run_tar_checked(RelName0, Opts) ->
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
            {variables, [{bin(filename:flatten(to_list(V))), bin(rm_trailing_slash(P))}
                         || {V, P} <- option(variables, Opts, []), is_flat(P)]},
            {dirs, [bin(atom_to_list(D)) || D <- option(dirs, Opts, [])]},
            {extra_files, [{bin(filename:flatten(F)), bin(filename:flatten(T))}
                           || {F, T} <- option(extra_files, Opts, [])]},
            {var_tar, case get_flag(var_tar, Opts) of {var_tar, V} -> V; false -> include end},
            {erts_all, lists:member(erts_all, Opts)},
            {compression_level, case get_flag(compression_level, Opts) of {_, L} -> L; false -> 6 end},
            {follow_symlinks, element(2, get_flag(follow_symlinks, Opts ++ [{follow_symlinks, inside}]))},
            {symlinks, element(2, get_flag(symlinks, Opts ++ [{symlinks, follow}]))},
            {unicode_range, io:printable_range() =:= unicode},
            {cwd, bin(cwd())}
            | Erts ++ reproducible(Opts)
              ++ [{F, lists:member(F, Opts)} || F <- [src_tests, no_warn_sasl, warnings_as_errors]]
              ++ vm_facts()],
    Result = case xref_apps(Opts) of
                 false -> tar_call(Base);
                 XrefP ->
                     case call([{check_only, true} | Base]) of
                         {checked, _, AppDirs} ->
                             case fastrel_xref:undefined(AppDirs, Path, XrefP) of
                                 {ok, XrefWarnings} -> tar_call([{extra_warnings, XrefWarnings} | Base]);
                                 {error, Errors} -> {error, {modules, Errors}}
                             end;
                         Other -> Other
                     end
             end,
    report(as_named(RelName0, RelName, refine(Result)), Opts).

tar_call(Args) ->
    decode(nif_make_tar(term_to_binary(Args))).

tar_name(RelName, Opts) ->
    case get_flag(outdir, Opts) of
        {outdir, Dir} when is_list(Dir), Dir =/= "" -> filename:join(Dir, filename:basename(RelName));
        _ -> RelName
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

%% systools names the .rel in errors as `RelName ++ ".rel"`, deep list and all (the
%% `erl -s relnif make_script rel` form passes `[rel]`).
as_named(Name, Name, Result) -> Result;
as_named(Deep, Flat, {error, Reason}) ->
    File = Flat ++ ".rel",
    {error, case Reason of
                {not_found, File} -> {not_found, Deep ++ ".rel"};
                {read, File} -> {read, Deep ++ ".rel"};
                {parse, File, E} -> {parse, Deep ++ ".rel", E};
                Other -> Other
            end};
as_named(_, _, Result) -> Result.

call(Args) ->
    decode(nif_make_script(term_to_binary(Args))).

%% exref needs the application directories before deciding on warnings; ask the NIF
%% for them without writing, run xref, then build with xref's warnings added.
with_exref(Base, Path, XrefP) ->
    case call([{check_only, true} | Base]) of
        {checked, _Warnings, AppDirs} ->
            case fastrel_xref:undefined(AppDirs, Path, XrefP) of
                {ok, XrefWarnings} -> call([{extra_warnings, XrefWarnings} | Base]);
                {error, Errors} -> {error, {modules, Errors}}
            end;
        Other -> Other
    end.

report({ok, Warnings}, Opts) ->
    case lists:member(silent, Opts) of
        true -> {ok, relnif, Warnings};
        false -> io:format("~ts", [format_warning(Warnings)]), ok
    end;
report({error, Reason}, Opts) ->
    case lists:member(silent, Opts) of
        true -> {error, relnif, Reason};
        false -> io:format("~ts", [format_error(Reason)]), error
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

path_mode(Opts) ->
    case {lists:member(local, Opts), lists:member(otp_build, Opts)} of
        {true, _} -> local;
        {_, true} -> otp_build;
        _ -> root
    end.

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

%% systools' option check walks the list with clauses for `[]' and `[_ | _]' only, so an
%% improper option list raises function_clause there, before anything is read; relnif
%% raises the same.
proper_options(RelName, Opts) ->
    case is_proper(Opts) of
        true -> ok;
        false -> erlang:error(function_clause, [RelName, Opts])
    end.

is_proper([_ | T]) -> is_proper(T);
is_proper(T) -> T =:= [].

%% systools reads `RelName ++ ".rel"': for an improper list that `++' raises, and systools
%% returns the crash (with its stack) as its error, here `{bad_rel_name, Name}'; a name
%% that is no file name (a character above 16#10FFFF) cannot be opened, `not_found' in
%% systools too.
rel_name_error(Name) ->
    case is_proper(Name) of
        false -> {bad_rel_name, Name};
        true ->
            case file_bin(Name) of
                {ok, _} -> none;
                error -> {not_found, Name ++ ".rel"}
            end
    end.

%% A file name as the NIF takes it, or `error' for a term no file can be named by.
file_bin(Name) ->
    try bin(filename:flatten(Name)) of
        B when is_binary(B) -> {ok, B};
        _ -> error
    catch
        error:_ -> error
    end.

%% Every rejected option, in the order given, as systools' check_args_script/1.
bad_options(Opts) ->
    [O || O <- Opts, not valid_option(O)].

valid_option(O) when O =:= silent; O =:= local; O =:= src_tests; O =:= exref;
                     O =:= otp_build; O =:= warnings_as_errors; O =:= no_warn_sasl;
                     O =:= no_module_tests; O =:= no_dot_erlang -> true;
valid_option({path, P}) when is_list(P) -> lists:all(fun is_list/1, P);
valid_option({variables, V}) when is_list(V) -> valid_vars(V);
valid_option({exref, Apps}) when is_list(Apps) -> atom_list(Apps);
valid_option({outdir, D}) when is_list(D) -> true;
valid_option({script_name, N}) when is_list(N) -> true;
valid_option(_) -> false.

%% systools' check_args_tar/1, plus fastrel's compression_level and reproducible.
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

is_flat([C | T]) when is_integer(C) -> is_flat(T);
is_flat(L) -> L =:= [].

valid_vars([]) -> true;
valid_vars([{N, D} | T]) when (is_atom(N) orelse is_list(N)), is_list(D) -> valid_vars(T);
valid_vars(_) -> false.

%%% ---------------------------------------------------------------- search path

%% `{path, Dirs}' expansion as systools_lib:get_path/1: a component that is exactly `*'
%% matches one or more characters, a `*' inside a component matches any run of
%% characters; other characters are regular-expression syntax, as in systools. A match must
%% cover the whole directory entry; entries come in directory order; non-directories and
%% missing fixed components drop out silently.
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

%%% ---------------------------------------------------------------- errors

%% The Rust reader reports syntax errors in its own words; systools reports erl_parse's.
%% Re-read the offending file with erl_scan/erl_parse (the error path only) so the term
%% is exactly the one systools gives.
refine({error, Reason}) -> {error, refine(Reason)};
refine({parse, File, {_, fastrel_reader, _} = Ours}) ->
    case erl_parse_error(File) of
        {ok, Theirs} -> {parse, File, Theirs};
        none -> {parse, File, Ours}
    end;
refine({error_reading, {App, {parse_error, {File, Line, Msg}}}}) ->
    case erl_parse_error(File) of
        {ok, {L, _Mod, Err}} -> {error_reading, {App, {parse_error, {File, L, Err}}}};
        none -> {error_reading, {App, {parse_error, {File, Line, Msg}}}}
    end;
refine({tar_error, {add, What, [{error, {fastrel_consult, File}}]}} = Ours) ->
    case otp_consult(File) of
        {error, E} -> {tar_error, {add, What, [{error, E}]}};
        _ -> Ours
    end;
refine(L) when is_list(L) -> [refine(E) || E <- L];
refine(Other) -> Other.

%% The error systools_lib:read_term/1 gives for the first form of File, or `none'.
erl_parse_error(File) ->
    with_file(File, fun(Fd) ->
        Enc = epp:set_encoding(Fd),
        case io:request(Fd, {get_until, Enc, '', erl_scan, tokens, [1]}) of
            {ok, Toks, _} ->
                case parse_form(Toks) of
                    {error, E} -> {ok, E};
                    _ -> none
                end;
            _ -> none
        end
    end, fun(_) -> none end).

%% file:consult/1 as systools_make's check_sys_config/1 and check_relup/1 call it, without
%% its two ways of not returning: invalid UTF-8 after a term makes file:consult raise
%% `{case_clause, {error, tokens}}' (systools then returns that crash and its stack as
%% its error), given here as the error file:consult returns for invalid UTF-8 in the first
%% term; and a binary literal too large to build (file:consult aborts the VM, as systools
%% does) is reported with the Rust reader's message instead of being built.
otp_consult(File) ->
    with_file(File, fun(Fd) ->
        _ = epp:set_encoding(Fd),
        consult_forms(Fd, File, 1)
    end, fun(Posix) -> {error, Posix} end).

consult_forms(Fd, File, Line) ->
    case io:request(Fd, {get_until, unicode, '', erl_scan, tokens, [Line, []]}) of
        {ok, Toks, End} ->
            case parse_form(Toks) of
                {ok, _} -> consult_forms(Fd, File, End);
                {error, E} -> {error, E};
                too_big -> consult(File)
            end;
        {error, E, _} -> {error, E};
        {eof, _} -> ok;
        %% The io server's answer when the bytes after a form do not decode.
        {error, _} -> {error, {Line, file_io_server, invalid_unicode}}
    end.

with_file(File, Fun, Failed) ->
    case file:open(File, [read]) of
        {ok, Fd} ->
            try Fun(Fd) after _ = file:close(Fd) end;
        {error, Posix} -> Failed(Posix)
    end.

%% erl_parse:parse_term/1 builds `<<0:Size>>' whatever Size says, and a binary it cannot
%% allocate aborts the whole VM; a form that could build more than the Rust reader's limit
%% is not parsed (`too_big'), and its Rust error stands.
parse_form(Toks) ->
    case binary_bits(Toks) =< ?MAX_BINARY_BITS of
        true -> erl_parse:parse_term(Toks);
        false -> too_big
    end.

%% An upper bound on the bits the form's binary literals can hold: the sum of the
%% literal sizes inside `<< >>', times the largest unit, times the characters of the
%% strings inside them (a string segment repeats its size per character). Too high only
%% costs OTP's wording: the Rust reader's message is given in its place.
binary_bits(Toks) ->
    {Sizes, Unit, Chars} = bin_sizes(Toks, 0, {0, 1, 1}),
    Sizes * Unit * Chars.

bin_sizes([], _, Acc) -> Acc;
bin_sizes([{'<<', _} | T], D, Acc) -> bin_sizes(T, D + 1, Acc);
bin_sizes([{'>>', _} | T], D, Acc) -> bin_sizes(T, D - 1, Acc);
bin_sizes([{string, _, S} | T], D, {Sz, U, C}) when D > 0 -> bin_sizes(T, D, {Sz, U, C + length(S)});
bin_sizes([{atom, _, unit}, {':', _} | T], D, {Sz, U, C}) when D > 0 ->
    case size_literal(T) of
        {N, T1} -> bin_sizes(T1, D, {Sz, max(U, N), C});
        none -> bin_sizes(T, D, {Sz, U, C})
    end;
bin_sizes([{':', _} | T], D, {Sz, U, C}) when D > 0 ->
    case size_literal(T) of
        {N, T1} -> bin_sizes(T1, D, {Sz + N, U, C});
        none -> bin_sizes(T, D, {Sz, U, C})
    end;
bin_sizes([_ | T], D, Acc) -> bin_sizes(T, D, Acc).

%% A size may be parenthesised and signed: `<<0:(+N)>>'.
size_literal([{Op, _} | T]) when Op =:= '('; Op =:= '+'; Op =:= '-' -> size_literal(T);
size_literal([{integer, _, N} | T]) -> {abs(N), T};
size_literal(_) -> none.

%% @doc The text systools prints for an error reason (same formats), plus sentences for
%% the errors only fastrel reports.
-spec format_error(term()) -> string().
format_error(R) ->
    %% systools' texts print file names with ~ts; a name that is no string (an atom in a
    %% list, from `erl -s relnif make_script ...') must still get a sentence, not a crash.
    %% Only that: where systools' own format_error has no clause (an appup of the wrong
    %% shape), relnif's raises function_clause as systools' does.
    try
        lists:flatten(fmt_error(R))
    catch
        error:badarg -> lists:flatten(io_lib:format("~0tp~n", [R]))
    end.

fmt_error(badly_formatted_release) ->
    io_lib:format("Syntax error in the release file~n", []);
fmt_error({illegal_name, Name}) ->
    io_lib:format("Illegal name (~tp) in the release file~n", [Name]);
fmt_error({illegal_form, Form}) ->
    io_lib:format("Illegal tag in the release file: ~tp~n", [Form]);
fmt_error({missing_parameter, Par}) ->
    io_lib:format("Missing parameter (~p) in the release file~n", [Par]);
fmt_error({illegal_applications, Names}) ->
    io_lib:format("Illegal applications in the release file: ~p~n", [Names]);
fmt_error({missing_mandatory_app, Name}) ->
    io_lib:format("Mandatory application ~w must be specified in the release file~n", [Name]);
fmt_error({mandatory_app, Name, Type}) ->
    io_lib:format("Mandatory application ~w must be of type 'permanent' in the release file. Is '~p'.~n",
                  [Name, Type]);
fmt_error({duplicate_register, Dups}) ->
    io_lib:format("Duplicated register names: ~n~ts",
                  [[io_lib:format("\t~tw registered in ~w and ~w~n", [N, A1, A2])
                    || {{N, A1, _, _}, {N, A2, _, _}} <- Dups]]);
fmt_error({undefined_applications, Apps}) ->
    io_lib:format("Undefined applications: ~p~n", [Apps]);
fmt_error({duplicate_modules, Dups}) ->
    io_lib:format("Duplicated modules: ~n~ts",
                  [[io_lib:format("\t~w specified in ~w and ~w~n", [M, A1, A2])
                    || {{M, A1, _}, {M, A2, _}} <- Dups]]);
fmt_error({included_and_used, Dups}) ->
    io_lib:format("Applications both used and included: ~p~n", [Dups]);
fmt_error({duplicate_include, Dups}) ->
    io_lib:format("Duplicated application included: ~n~ts",
                  [[io_lib:format("\t~w included in ~w and ~w~n", [N, A1, A2])
                    || {{N, A1, _, _}, {N, A2, _, _}} <- Dups]]);
fmt_error({modules, ModErrs}) ->
    fmt_errors(ModErrs);
fmt_error({circular_dependencies, Apps}) ->
    io_lib:format("Circular dependencies among applications: ~p~n", [Apps]);
fmt_error({circular_included_applications, Apps}) ->
    io_lib:format("Circular included_applications (systools would hang here): ~ts~n",
                  [lists:join(" includes ", [atom_to_list(A) || A <- lists:reverse(Apps)])]);
fmt_error({bad_rel_name, Name}) ->
    io_lib:format("Cannot read the release file: its name, ~tp, is not a string~n", [Name]);
fmt_error({not_found, File}) ->
    io_lib:format("File not found: ~tp~n", [File]);
fmt_error({parse, File, {Line, Mod, What}}) ->
    io_lib:format("~ts:~w: ~ts\n", [File, Line, mod_error(Mod, What)]);
fmt_error({read, File}) ->
    io_lib:format("Cannot read ~tp~n", [File]);
fmt_error({open, File, Error}) ->
    io_lib:format("Cannot open ~tp - ~ts~n", [File, file:format_error(Error)]);
fmt_error({close, File, Error}) ->
    io_lib:format("Cannot close ~tp - ~ts~n", [File, file:format_error(Error)]);
fmt_error({delete, File, Error}) ->
    io_lib:format("Cannot delete ~tp - ~ts~n", [File, file:format_error(Error)]);
fmt_error({bad_boot, File, Why}) ->
    io_lib:format("Cannot decode boot file ~tp - ~ts~n", [File, Why]);
fmt_error({bad_tar_files_args, Entries, Opts}) ->
    io_lib:format("tar_files/3 takes a list of {File, Name} entries and a list of options, not ~0tP and ~0tP~n",
                  [Entries, 10, Opts, 10]);
fmt_error({bad_options, Why}) ->
    io_lib:format("Internal error: options not understood by the NIF (~ts)~n", [Why]);
fmt_error({tar_error, What}) ->
    form_tar_err(What);
fmt_error({warnings_treated_as_errors, Warnings}) ->
    io_lib:format("Warnings being treated as errors:~n~ts",
                  [[form_warn("", W) || W <- Warnings]]);
%% systools_relup's errors.
fmt_error({file_problem, {File, What}}) ->
    io_lib:format("Could not ~w file ~ts~n", [relup_reason(What), File]);
fmt_error({no_relup, File, App, Vsn}) ->
    {Name, AppVsn} = {element(2, App), element(4, App)},
    io_lib:format("No release upgrade script entry for ~w-~ts to ~w-~ts in file ~ts~n",
                  [Name, AppVsn, Name, Vsn, File]);
fmt_error({missing_sasl, Release}) ->
    io_lib:format("No sasl application in release ~ts, ~ts. Can not be upgraded.",
                  [element(2, Release), element(3, Release)]);
%% systools_rc's errors.
fmt_error({bad_op_before_point_of_no_return, Instruction}) ->
    io_lib:format("Bad instruction ~p~nbefore point_of_no_return~n", [Instruction]);
fmt_error({no_object_code, Mod}) ->
    io_lib:format("No load_object_code found for module: ~w~n", [Mod]);
fmt_error({suspended_not_resumed, Mods}) ->
    io_lib:format("Suspended but not resumed: ~p~n", [Mods]);
fmt_error({resumed_not_suspended, Mods}) ->
    io_lib:format("Resumed but not suspended: ~p~n", [Mods]);
fmt_error({code_change_not_suspended, Mods}) ->
    io_lib:format("Code changed but not suspended: ~p~n", [Mods]);
fmt_error({start_not_stop, Mods}) ->
    io_lib:format("Started but not stopped: ~p~n", [Mods]);
fmt_error({stop_not_start, Mods}) ->
    io_lib:format("Stopped but not started: ~p~n", [Mods]);
fmt_error({no_such_application, App}) ->
    io_lib:format("Started undefined application: ~w~n", [App]);
fmt_error({removed_application_present, App}) ->
    io_lib:format("Removed application present: ~w~n", [App]);
fmt_error(dup_mnesia_backup) ->
    io_lib:format("Duplicate mnesia_backup~n", []);
fmt_error(bad_mnesia_backup) ->
    io_lib:format("mnesia_backup in bad position~n", []);
fmt_error({conflicting_versions, Lib, V1, V2}) ->
    io_lib:format("Conflicting versions for ~w, ~ts and ~ts~n", [Lib, V1, V2]);
fmt_error({no_appl_vsn, Appl}) ->
    io_lib:format("No version specified for application: ~w~n", [Appl]);
fmt_error({no_such_module, Mod}) ->
    io_lib:format("No such module: ~w~n", [Mod]);
fmt_error(too_many_point_of_no_return) ->
    io_lib:format("Too many point_of_no_return~n", []);
fmt_error({bad_instruction, X}) ->
    io_lib:format("Bad instruction: ~tp~n", [X]);
fmt_error({bad_module, X}) ->
    io_lib:format("Bad module: ~tp(should be atom())~n", [X]);
fmt_error({bad_code_change, X}) ->
    io_lib:format("Bad code_change: ~tp(should be {Mod, Extra})~n", [X]);
fmt_error({bad_change, X}) ->
    io_lib:format("Bad change spec: ~tp(should be soft | {advanced, E})~n", [X]);
fmt_error({bad_mod_type, X}) ->
    io_lib:format("Bad module type: ~tp(should be static | dynamic)~n", [X]);
fmt_error({bad_purge_method, X}) ->
    io_lib:format("Bad purge method: ~tp(should be soft_purge | brutal_purge)~n", [X]);
fmt_error({bad_list, X}) ->
    io_lib:format("Bad list: ~tp~n", [X]);
fmt_error({bad_args_list, X}) ->
    io_lib:format("Bad argument list: ~tp~n", [X]);
fmt_error({bad_node, X}) ->
    io_lib:format("Bad node: ~tp(should be atom())~n", [X]);
fmt_error({bad_application, X}) ->
    io_lib:format("Bad application: ~tp(should be atom())~n", [X]);
fmt_error({bad_func, X}) ->
    io_lib:format("Bad function: ~tp(should be atom())~n", [X]);
fmt_error({bad_lib, X}) ->
    io_lib:format("Bad library: ~tp(should be atom())~n", [X]);
fmt_error({bad_lib_vsn, X}) ->
    io_lib:format("Bad library version: ~tp(should be string())~n", [X]);
fmt_error({bad_timeout, X}) ->
    io_lib:format("Bad timeout: ~tp(should be infinity | int() > 0)~n", [X]);
fmt_error({undef_module, Mod}) ->
    io_lib:format("Undefined module: ~p~n", [Mod]);
fmt_error({muldef_module, Mod}) ->
    io_lib:format("Multiply defined module: ~p~n", [Mod]);
fmt_error(List) when is_list(List) ->
    fmt_errors(List);
fmt_error(E) ->
    io_lib:format("~tp~n", [E]).

form_tar_err({open, File, Error}) ->
    io_lib:format("Cannot open tar file ~ts - ~ts~n", [File, erl_tar:format_error(Error)]);
form_tar_err({add, boot, RelName, enoent}) ->
    io_lib:format("Cannot find file start.boot or ~ts to add to tar file - ~ts~n",
                  [RelName, erl_tar:format_error(enoent)]);
form_tar_err({add, File, {unsafe_name, To}}) ->
    io_lib:format("Refusing to add file ~ts to tar file - its name there, ~ts, is absolute or climbs "
                  "above the root with .. (it would be unpacked outside the release)~n", [File, To]);
form_tar_err({add, File, {symlink_outside, Target}}) ->
    io_lib:format("Refusing to add file ~ts to tar file - it is a symbolic link to ~ts, outside the "
                  "directory being packed (option {follow_symlinks, outside} packs its target)~n", [File, Target]);
form_tar_err({add, File, size_changed}) ->
    io_lib:format("Cannot add file ~ts to tar file - its size changed while it was read "
                  "(a /proc or /sys file, or one being written)~n", [File]);
form_tar_err({add, File, Error}) ->
    io_lib:format("Cannot add file ~ts to tar file - ~ts~n", [File, erl_tar:format_error(Error)]).

mod_error(fastrel_reader, What) -> What;
mod_error(Mod, What) -> Mod:format_error(What).

fmt_errors(Errors) ->
    [case E of {error, E1} -> form_err(E1); _ -> form_err(E) end || E <- Errors].

form_err({bad_application_name, {Name, Found}}) ->
    io_lib:format("~p: Mismatched application id: ~p~n", [Name, Found]);
form_err({error_reading, {Name, What}}) ->
    io_lib:format("~p: ~ts~n", [Name, form_reading(What)]);
form_err({module_not_found, App, Mod}) ->
    io_lib:format("~w: Module (~w) not found~n", [App, Mod]);
form_err({error_add_appl, {Name, {tar_error, What}}}) ->
    io_lib:format("~p: ~ts~n", [Name, form_tar_err(What)]);
form_err(E) ->
    io_lib:format("~tp~n", [E]).

form_reading({not_found, File}) ->
    io_lib:format("File not found: ~tp~n", [File]);
form_reading({application_vsn, {Name, Vsn}}) ->
    io_lib:format("Application ~ts with version ~tp not found~n", [Name, Vsn]);
form_reading({parse, File, {Line, Mod, What}}) ->
    io_lib:format("~ts:~w: ~ts\n", [File, Line, mod_error(Mod, What)]);
form_reading({read, File}) ->
    io_lib:format("Cannot read ~tp~n", [File]);
form_reading({{bad_param, P}, _}) ->
    io_lib:format("Bad parameter in .app file: ~tp~n", [P]);
form_reading({{dupl_entry, P, Dups}, _}) ->
    io_lib:format("~tp parameter contains duplicates of: ~tp~n", [P, Dups]);
form_reading({{missing_param, P}, _}) ->
    io_lib:format("Missing parameter in .app file: ~p~n", [P]);
form_reading({badly_formatted_application, _}) ->
    io_lib:format("Syntax error in .app file~n", []);
form_reading({override_include, Apps}) ->
    io_lib:format("Tried to include not (in .app file) specified applications: ~p~n", [Apps]);
form_reading({no_valid_version, {{_, SVsn}, {_, File, FVsn}}}) ->
    io_lib:format("No valid version (~tp) of .app file found. Found file ~tp with version ~tp~n",
                  [SVsn, File, FVsn]);
form_reading({parse_error, {File, Line, Error}}) ->
    io_lib:format("Parse error in file: ~tp.  Line: ~w  Error: ~tp; ~n", [File, Line, Error]);
form_reading(W) ->
    io_lib:format("~tp~n", [W]).

%% systools_relup's get_reason/1 (it crashes on anything else, and so does this).
relup_reason({error, {open, _, _}}) -> open;
relup_reason({error, {read, _, _}}) -> read;
relup_reason({error, {parse, _, _}}) -> parse;
relup_reason({error, {close, _, _}}) -> close;
relup_reason({error, {open, _}}) -> open;
relup_reason({error, {read, _}}) -> read;
relup_reason({error, {parse, _}}) -> parse;
relup_reason({open, _}) -> open;
relup_reason({read, _}) -> read;
relup_reason({parse, _}) -> parse;
relup_reason({close, _}) -> close;
relup_reason(open) -> open;
relup_reason(read) -> read;
relup_reason(parse) -> parse.

%% @doc The text systools prints for a list of `{warning, W}' (make_script, make_tar),
%% or for one `make_relup' warning (as `systools_relup:format_warning/1').
-spec format_warning([warning()] | term()) -> string().
format_warning(Warnings) when is_list(Warnings) ->
    lists:flatten([form_warn("*WARNING* ", W) || {warning, W} <- Warnings]);
format_warning(Warning) ->
    lists:flatten(form_warn("*WARNING* ", Warning)).

form_warn(Prefix, {source_not_found, {Mod, App, _}}) ->
    io_lib:format("~ts~w: Source code not found: ~w.erl~n", [Prefix, App, Mod]);
form_warn(Prefix, {{parse_error, File}, {_, _, App, _, _}}) ->
    io_lib:format("~ts~w: Parse error: ~tp~n", [Prefix, App, File]);
form_warn(Prefix, {obj_out_of_date, {Mod, App, _}}) ->
    io_lib:format("~ts~w: Object code (~w) out of date~n", [Prefix, App, Mod]);
form_warn(Prefix, {exref_undef, Undef}) ->
    [io_lib:format("~tsUndefined function ~w:~tw/~w~n", [Prefix, M, F, A]) || {M, F, A} <- Undef];
form_warn(Prefix, {erts_vsn_changed, {Rel1, Rel2}}) ->
    io_lib:format("~tsThe ERTS version changed between ~tp and ~tp~n", [Prefix, Rel1, Rel2]);
form_warn(Prefix, pre_R15_emulator_upgrade) ->
    io_lib:format("~tsUpgrade from an OTP version earlier than R15. New code should be compiled with the old emulator.~n",
                  [Prefix]);
form_warn(Prefix, missing_sasl) ->
    io_lib:format("~tsMissing application sasl. Can not upgrade with this release~n", [Prefix]);
form_warn(Prefix, What) ->
    io_lib:format("~ts~tp~n", [Prefix, What]).

%%% ---------------------------------------------------------------- helpers

flat_name(Name) ->
    case lists:all(fun is_integer/1, Name) of
        true -> Name;
        false -> filename:flatten(Name)
    end.

to_list(A) when is_atom(A) -> atom_to_list(A);
to_list(L) -> L.

rm_trailing_slash(P) -> lists:reverse(drop_slashes(lists:reverse(P))).
drop_slashes([$/ | T]) -> drop_slashes(T);
drop_slashes(T) -> T.

bin(S) when is_binary(S) -> S;
bin(S) -> unicode:characters_to_binary(S, unicode, file:native_name_encoding()).

cwd() ->
    {ok, Cwd} = file:get_cwd(),
    Cwd.

otp_major() ->
    list_to_integer(erlang:system_info(otp_release)).

%% What systools' output depends on in the running VM, asked of the VM rather than kept
%% in a table: its release, its preloaded modules (systools' {preLoaded, ...} list equals
%% erlang:pre_loaded() on OTP 25 to 29) and whether its systools packs .appup files
%% (sasl 4.3, OTP 28). Map key order is asked of the VM by the NIF itself.
vm_facts() ->
    case persistent_term:get({?MODULE, vm_facts}, undefined) of
        undefined ->
            Facts = [{otp_major, otp_major()},
                     {preloaded, [bin(atom_to_list(M)) || M <- lists:sort(erlang:pre_loaded())]},
                     {appups, vsn_at_least(app_vsn(sasl), [4, 3])}],
            persistent_term:put({?MODULE, vm_facts}, Facts),
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

%% OTP 27's scanner (triple-quoted strings) refuses "a""b", which OTP 25 and 26 read as
%% "ab"; OTP 29's refuses a name character right after a number (8x), which older ones
%% read as two tokens; OTP 27's reserves maybe and else; OTP 29's takes \^X only for X in
%% ?, @.._ and a..z. fastrel's reader does what the running VM's does.
scanner_rules() ->
    Ok = fun(S) -> element(1, erl_scan:string(S)) =:= ok end,
    Reserved = case erl_scan:string("maybe.") of
                   {ok, [{atom, _, _} | _], _} -> false;
                   _ -> true
               end,
    nif_set_scanner_rules(Ok([$", $a, $", $", $b, $", $.]), Ok("8x."), Reserved,
                          not Ok([$', $\\, $^, $}, $', $.])).

decode(Bin) -> binary_to_term(Bin).

%%% ---------------------------------------------------------------- NIF loading

init() ->
    case nif_path() of
        {ok, Path} ->
            case erlang:load_nif(Path, 0) of
                ok -> scanner_rules();
                Error -> Error
            end;
        {error, _} = E -> E
    end.

%% @doc Where the NIF library is loaded from, tried in order: `$FASTREL_NIF_PATH', the
%% application's priv dir, a `priv/' next to the (symlink-resolved) escript, and the copy
%% embedded in the escript archive (extracted once into the user cache).
-spec nif_path() -> {ok, string()} | {error, term()}.
nif_path() ->
    first([fun from_env/0, fun from_priv_dir/0, fun next_to_escript/0, fun from_escript_archive/0]).

first([]) -> {error, {nif_not_found, ?LIB}};
first([F | Fs]) ->
    case try F() catch _:_ -> error end of
        {ok, _} = Ok -> Ok;
        _ -> first(Fs)
    end.

so(Base) -> Base ++ ".so".
exists(Base) -> filelib:is_regular(so(Base)).

from_env() ->
    case os:getenv("FASTREL_NIF_PATH") of
        false -> none;
        "" -> none;
        P -> {ok, filename:rootname(P, ".so")}
    end.

from_priv_dir() ->
    case code:priv_dir(?APP) of
        {error, bad_name} -> none;
        Dir ->
            Base = filename:join(Dir, ?LIB),
            case exists(Base) of true -> {ok, Base}; false -> none end
    end.

next_to_escript() ->
    Dir = filename:dirname(resolve(filename:absname(escript:script_name()), 16)),
    case [B || B <- [filename:join([Dir, "priv", ?LIB]), filename:join(Dir, ?LIB)], exists(B)] of
        [B | _] -> {ok, B};
        [] -> none
    end.

resolve(Path, 0) -> Path;
resolve(Path, N) ->
    case file:read_link(Path) of
        {ok, Target} -> resolve(filename:absname(Target, filename:dirname(Path)), N - 1);
        {error, _} -> Path
    end.

from_escript_archive() ->
    ArchPriv = filename:join([escript:script_name(), atom_to_list(?APP), "priv"]),
    case erl_prim_loader:get_file(so(filename:join(ArchPriv, ?LIB))) of
        {ok, Bin, _} ->
            Md5 = erlang:md5(Bin),
            Hash = binary_to_list(binary:encode_hex(Md5)),
            Base = filename:join([filename:basedir(user_cache, "fastrel"), Hash, ?LIB]),
            ok = filelib:ensure_dir(so(Base)),
            %% A copy cut short (a full disk, a killed extraction by an older fastrel, a
            %% user's edit) would be mapped as is and kill the VM with SIGBUS, on every
            %% run: checked against the embedded bytes each time, replaced when it differs.
            case intact(so(Base), byte_size(Bin), Md5) orelse extract(Bin, so(Base)) of
                true -> {ok, Base};
                {error, _} -> none
            end;
        error -> none
    end.

%% Through a file of this process's own and a rename, so that no process, this one or a
%% concurrent fastrel, ever maps a half-written library.
extract(Bin, File) ->
    Tmp = File ++ ".tmp" ++ os:getpid(),
    case file:write_file(Tmp, Bin) of
        ok ->
            case file:rename(Tmp, File) of
                ok -> true;
                {error, _} = E -> _ = file:delete(Tmp), E
            end;
        {error, _} = E -> _ = file:delete(Tmp), E
    end.

intact(File, Size, Md5) ->
    case file:read_file_info(File) of
        {ok, #file_info{type = regular, size = Size}} ->
            case file:read_file(File) of
                {ok, Bytes} -> erlang:md5(Bytes) =:= Md5;
                {error, _} -> false
            end;
        _ -> false
    end.

nif_make_script(_Args) -> erlang:nif_error(nif_not_loaded).
nif_make_tar(_Args) -> erlang:nif_error(nif_not_loaded).
nif_tar_files(_Args) -> erlang:nif_error(nif_not_loaded).
nif_make_relup(_Args) -> erlang:nif_error(nif_not_loaded).
nif_write_relup(_Args) -> erlang:nif_error(nif_not_loaded).
nif_script2boot(_File, _Otp) -> erlang:nif_error(nif_not_loaded).
nif_boot2script(_File, _Otp, _Unicode) -> erlang:nif_error(nif_not_loaded).
nif_consult(_File) -> erlang:nif_error(nif_not_loaded).
nif_scheduler_probe() -> erlang:nif_error(nif_not_loaded).
nif_set_scanner_rules(_AdjacentStrings, _NameAfterNumber, _MaybeElseReserved, _CaretStrict) ->
    erlang:nif_error(nif_not_loaded).
