%% SPDX-License-Identifier: Apache-2.0
%% @private
%% @doc What `relnif:make_script/2', `make_tar/2', `tar_files/3', `script2boot/1' and
%% `boot2script/1,2' do once their arguments passed relnif's checks: the NIF call, exref
%% (xref runs here, in the VM), systools' error terms, and printing unless `silent'.
-module(fastrel_make).

-export([script/2, tar/2, tar_files/3, script2boot/1, boot2script/1, boot2script/2]).

-spec script(list(), [term()]) -> relnif:result().
script(RelName0, Opts) ->
    case fastrel_opts:rel_name_error(RelName0) of
        none ->
            {Base, Path} = fastrel_opts:script_args(RelName0, Opts),
            Result = case fastrel_opts:xref_apps(Opts) of
                         false -> call(Base);
                         XrefP -> with_exref(fun call/1, Base, Path, XrefP)
                     end,
            report(as_named(RelName0, fastrel_opts:flat_name(RelName0), refine(Result)), Opts);
        Reason -> report({error, Reason}, Opts)
    end.

-spec tar(list(), [term()]) -> relnif:result().
tar(RelName0, Opts) ->
    case fastrel_opts:rel_name_error(RelName0) of
        none ->
            {Base, Path} = fastrel_opts:tar_args(RelName0, Opts),
            Result = case fastrel_opts:xref_apps(Opts) of
                         false -> tar_call(Base);
                         XrefP -> with_exref(fun tar_call/1, Base, Path, XrefP)
                     end,
            report(as_named(RelName0, fastrel_opts:flat_name(RelName0), refine(Result)), Opts);
        Reason -> report({error, Reason}, Opts)
    end.

-spec tar_files(file:filename(), [{file:filename(), string()}], [term()]) -> ok | {error, relnif, term()}.
tar_files(Out, Entries, Opts) ->
    Args = fastrel_opts:tar_files_args(Out, Entries, Opts),
    case decode(relnif:nif_tar_files(term_to_binary(Args))) of
        {ok, ok} -> ok;
        {error, E} -> {error, relnif, E}
    end.

-spec script2boot(string()) -> ok | {error, relnif, term()}.
script2boot(File) ->
    case fastrel_opts:file_bin(File) of
        {ok, Bin} ->
            case decode(relnif:nif_script2boot(Bin, fastrel_opts:otp_major())) of
                {ok, ok} -> ok;
                {error, E} -> {error, relnif, fastrel_errors:refine(E)}
            end;
        %% systools' file:open/2 of File ++ ".script" gives badarg for such a name.
        error -> {error, relnif, {open, File ++ ".script", badarg}}
    end.

-spec boot2script(file:filename()) -> {ok, unicode:unicode_binary()} | {error, relnif, term()}.
boot2script(BootFile) ->
    case fastrel_opts:file_bin(BootFile) of
        {ok, Bin} ->
            case decode(relnif:nif_boot2script(Bin, fastrel_opts:otp_major(), io:printable_range() =:= unicode)) of
                {ok, Text} -> {ok, Text};
                {error, E} -> {error, relnif, E}
            end;
        error -> {error, relnif, {open, BootFile, badarg}}
    end.

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

call(Args) ->
    decode(relnif:nif_make_script(term_to_binary(Args))).

tar_call(Args) ->
    decode(relnif:nif_make_tar(term_to_binary(Args))).

%% exref needs the application directories before deciding on warnings: the NIF names
%% them without writing anything, xref runs, then the build goes on with xref's warnings
%% added.
with_exref(Call, Base, Path, XrefP) ->
    case call([{check_only, true} | Base]) of
        {checked, _Warnings, AppDirs} ->
            case fastrel_xref:undefined(AppDirs, Path, XrefP) of
                {ok, XrefWarnings} -> Call([{extra_warnings, XrefWarnings} | Base]);
                {error, Errors} -> {error, {modules, Errors}}
            end;
        Other -> Other
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

report({ok, Warnings}, Opts) ->
    case lists:member(silent, Opts) of
        true -> {ok, relnif, Warnings};
        false -> io:format("~ts", [fastrel_errors:format_warning(Warnings)]), ok
    end;
report({error, Reason}, Opts) ->
    case lists:member(silent, Opts) of
        true -> {error, relnif, Reason};
        false -> io:format("~ts", [fastrel_errors:format_error(Reason)]), error
    end.

decode(Bin) -> binary_to_term(Bin).

%% Only errors need refining: a successful first call then does not load fastrel_errors.
refine({error, _} = Error) -> fastrel_errors:refine(Error);
refine(Result) -> Result.
