%% SPDX-License-Identifier: Apache-2.0
%% @doc systools' errors, as relnif gives them: the terms (the Rust reader words syntax
%% errors its own way; the offending file is re-read here with erl_scan/erl_parse, on the
%% error path only, so the term is the one systools gives) and the texts systools prints
%% for them (`systools_make', `systools_relup', `systools_rc'), plus sentences for the
%% errors only fastrel reports. `relnif:format_error/1' and `relnif:format_warning/1' are
%% the public entries.
-module(fastrel_errors).

-export([format_error/1, format_warning/1, refine/1, refine_relup/1, nested/1, consult_error/1]).

%% The Rust reader's MAX_BINARY_BITS (16 MiB): no larger binary literal is built here.
-define(MAX_BINARY_BITS, (1 bsl 27)).

%% @doc The sentence of a nested error `{Module, Reason}', by `Module:format_error/1'
%% (flat), as fastrel's modules keep errors of the modules they call.
-spec nested({module(), term()}) -> string().
nested({Mod, Reason}) ->
    unicode:characters_to_list(Mod:format_error(Reason)).


%% @doc What is wrong with a term file, from the reason `relnif:consult/1' (or
%% `file:consult/1') gives: `line N: ...' for its text, the POSIX error's sentence for the
%% file. The caller names the file.
-spec consult_error(term()) -> string().
consult_error({Line, Mod, What}) when is_integer(Line) ->
    lists:flatten(io_lib:format("line ~w: ~ts", [Line, mod_error(Mod, What)]));
consult_error({{Line, _Col}, Mod, What}) when is_integer(Line) ->
    consult_error({Line, Mod, What});
consult_error(Posix) when is_atom(Posix) ->
    file:format_error(Posix);
consult_error(Other) ->
    lists:flatten(io_lib:format("~0tP", [Other, 12])).

%% @doc A reason from the NIF, as systools gives it: the Rust reader reports syntax
%% errors in its own words, systools reports erl_parse's.
-spec refine(term()) -> term().
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

%% @doc `refine/1' for make_relup's reasons: a parse error in a `.rel' file inside its
%% `file_problem'.
-spec refine_relup(term()) -> term().
refine_relup({file_problem, {File, {error, {parse, PFile, {_, fastrel_reader, _} = Ours}}}}) ->
    case erl_parse_error(PFile) of
        {ok, Theirs} -> {file_problem, {File, {error, {parse, PFile, Theirs}}}};
        none -> {file_problem, {File, {error, {parse, PFile, Ours}}}}
    end;
refine_relup(Reason) ->
    refine(Reason).

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
                too_big -> relnif:consult(File)
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
-spec format_warning([{warning, term()}] | term()) -> string().
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

