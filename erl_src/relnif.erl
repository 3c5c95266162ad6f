%% SPDX-License-Identifier: Apache-2.0
%% @doc Drop-ins for `systools:make_script/1,2', `make_tar/1,2', `make_relup/3,4' and
%% `script2boot/1' (plus `tar_files/3', `boot2script/1,2' and `consult/1'), whose file
%% work runs in Rust on a dirty IO scheduler. Results are systools' terms with `relnif' in
%% place of `systools_make', `systools_relup' or `systools_rc'; `format_error/1' and
%% `format_warning/1' give systools' texts.
%%
%% This module is the public face and the NIF's home: the checks that make bad arguments
%% raise exactly as systools' do, the NIF stubs and their loading. What depends on the
%% running VM is done by `fastrel_opts' (options, code path, `{path, ...}' wildcards),
%% `fastrel_make' and `fastrel_relup' (the calls, xref, printing), `fastrel_errors'
%% (systools' error terms and texts) and `fastrel_file' (finding the library).
-module(relnif).

-export([make_script/1, make_script/2, make_tar/1, make_tar/2, make_relup/3, make_relup/4, tar_files/3, script2boot/1, script2boot_silent/1, boot2script/1, boot2script/2,
         format_error/1, format_warning/1, consult/1, nif_path/0, scheduler_probe/0]).
%% The NIF's functions, for fastrel_make and fastrel_relup only.
-export([nif_make_script/1, nif_make_tar/1, nif_tar_files/1, nif_make_relup/1, nif_write_relup/1,
         nif_script2boot/2, nif_boot2script/3]).

-on_load(init/0).

-define(LIB, "relnif_nif").

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
    case fastrel_opts:bad_script_options(Opts) of
        [] -> fastrel_make:script(RelName, Opts);
        Bad -> erlang:error({badarg, Bad}, [RelName, Opts])
    end;
make_script(RelName, Opts) when is_list(Opts) ->
    erlang:error({badarg, RelName}, [RelName, Opts]);
make_script(RelName, Opts) ->
    erlang:error({badarg, Opts}, [RelName, Opts]).

%% @doc As `systools:make_tar/1', which, unlike `make_script/1', has no `erl -s' form:
%% `[rel, silent]' names the file `rel' `silent' `.rel'.
-spec make_tar(string()) -> result().
make_tar(RelName) when is_list(RelName) ->
    make_tar(RelName, []);
make_tar(RelName) ->
    erlang:error({badarg, RelName}, [RelName]).

%% @doc As `systools:make_tar/2', with the same options and results, plus:
%% `{compression_level, 0..9}' (default 6; libdeflate's levels, about zlib's sizes) and `{reproducible, true}'
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
    case fastrel_opts:bad_tar_options(Opts) of
        [] -> fastrel_make:tar(RelName, Opts);
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
    case fastrel_opts:is_proper(Opts) andalso fastrel_opts:is_proper(Entries) of
        true -> fastrel_make:tar_files(Out, Entries, Opts);
        false -> {error, relnif, {bad_tar_files_args, Entries, Opts}}
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
    fastrel_make:script2boot(File).

%% @doc The `.script' text of a `.boot' file (the reverse of `script2boot/1').
-spec boot2script(file:filename()) -> {ok, unicode:unicode_binary()} | {error, relnif, term()}.
boot2script(BootFile) ->
    fastrel_make:boot2script(BootFile).

%% @doc Writes the `.script' text of `BootFile' to `ScriptFile'.
-spec boot2script(file:filename(), file:filename()) -> ok | {error, relnif, term()}.
boot2script(BootFile, ScriptFile) ->
    fastrel_make:boot2script(BootFile, ScriptFile).

%% @doc `file:consult/1' through fastrel's Rust reader: the same terms, errors of the same
%% shapes (`{error, {Line, Module, Message}}', `{error, Posix}'), but bounded: nesting,
%% integer and binary sizes past the reader's limits are a syntax error, never a crashed
%% or exhausted VM. fastrel reads every user-supplied term file with it.
-spec consult(file:filename()) -> {ok, [term()]} | {error, term()}.
consult(File) ->
    binary_to_term(nif_consult(fastrel_opts:bin(File))).

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
    case fastrel_opts:relup_bad_outdir(Opts) of
        [] -> fastrel_relup:make_relup(TopRel, UpFrom, DownTo, Opts);
        Bad -> erlang:error({badarg, Bad})
    end.

%% @doc The text systools prints for an error reason (same formats), plus sentences for
%% the errors only fastrel reports.
-spec format_error(term()) -> string().
format_error(Reason) ->
    fastrel_errors:format_error(Reason).

%% @doc The text systools prints for a list of `{warning, W}' (make_script, make_tar),
%% or for one `make_relup' warning (as `systools_relup:format_warning/1').
-spec format_warning([warning()] | term()) -> string().
format_warning(Warnings) ->
    fastrel_errors:format_warning(Warnings).

%% systools' option check walks the list with clauses for `[]' and `[_ | _]' only, so an
%% improper option list raises function_clause there, before anything is read; relnif
%% raises the same.
proper_options(RelName, Opts) ->
    case fastrel_opts:is_proper(Opts) of
        true -> ok;
        false -> erlang:error(function_clause, [RelName, Opts])
    end.

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
    fastrel_file:nif_path(?LIB).

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

%% @private
-spec nif_make_script(binary()) -> binary().
nif_make_script(_Args) -> erlang:nif_error(nif_not_loaded).
%% @private
-spec nif_make_tar(binary()) -> binary().
nif_make_tar(_Args) -> erlang:nif_error(nif_not_loaded).
%% @private
-spec nif_tar_files(binary()) -> binary().
nif_tar_files(_Args) -> erlang:nif_error(nif_not_loaded).
%% @private
-spec nif_make_relup(binary()) -> binary().
nif_make_relup(_Args) -> erlang:nif_error(nif_not_loaded).
%% @private
-spec nif_write_relup(binary()) -> binary().
nif_write_relup(_Args) -> erlang:nif_error(nif_not_loaded).
%% @private
-spec nif_script2boot(binary(), pos_integer()) -> binary().
nif_script2boot(_File, _Otp) -> erlang:nif_error(nif_not_loaded).
%% @private
-spec nif_boot2script(binary(), pos_integer(), boolean()) -> binary().
nif_boot2script(_File, _Otp, _Unicode) -> erlang:nif_error(nif_not_loaded).
nif_consult(_File) -> erlang:nif_error(nif_not_loaded).
nif_scheduler_probe() -> erlang:nif_error(nif_not_loaded).
nif_set_scanner_rules(_AdjacentStrings, _NameAfterNumber, _MaybeElseReserved, _CaretStrict) ->
    erlang:nif_error(nif_not_loaded).
