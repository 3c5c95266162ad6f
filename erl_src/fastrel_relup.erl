%% SPDX-License-Identifier: Apache-2.0
%% @private
%% @doc What `relnif:make_relup/4' does once `outdir' passed: the NIF call, answering
%% what the NIF asks of the VM (regular-expression matches, dependency orders), then
%% systools_relup's done_mk_relup/2 (warnings_as_errors, noexec, silent, the `relup'
%% file), with its crashes on odd option values.
-module(fastrel_relup).

-export([make_relup/4]).

-spec make_relup(atom() | string(), term(), term(), [term()]) ->
          ok | error | {ok, term(), relnif, [term()]} | {error, relnif, term()}.
make_relup(TopRel, UpFrom, DownTo, Opts) when is_list(TopRel) ->
    case fastrel_opts:rel_name_error(TopRel) of
        %% A list with atoms in it names no file for systools_relup either.
        none ->
            case lists:all(fun is_integer/1, lists:flatten(TopRel)) of
                true -> run(TopRel, UpFrom, DownTo, Opts);
                false -> done(Opts, {error, relnif, {not_found, TopRel ++ ".rel"}})
            end;
        Reason -> done(Opts, {error, relnif, Reason})
    end;
make_relup(TopRel, UpFrom, DownTo, Opts) ->
    run(TopRel, UpFrom, DownTo, Opts).

run(TopRel, UpFrom, DownTo, Opts) ->
    {Args, {UpDescrs, DnDescrs}} = fastrel_opts:relup_args(TopRel, UpFrom, DownTo, Opts),
    Result = case call(Args, [], 16) of
                 {ok, {Vsn, UpRUs, DnRUs}, Ws} ->
                     {ok, {Vsn, descrs(UpRUs, UpDescrs), descrs(DnRUs, DnDescrs)}, Ws};
                 Other -> Other
             end,
    done(Opts, Result).

%% The NIF put each base's position where its description goes.
descrs(RUs, Descrs) ->
    [{Vsn, lists:nth(I, Descrs), Instrs} || {Vsn, I, Instrs} <- RUs].

%% Runs the NIF, answering what it asks of the VM (regex matches, digraph orders).
call(Args, Answers, N) ->
    case decode(relnif:nif_make_relup(term_to_binary([{answers, Answers} | Args]))) of
        {need, Qs} when N > 0 ->
            call(Args, Answers ++ [{Q, answer(Q)} || Q <- Qs], N - 1);
        {need, _} ->
            {error, relnif, {bad_options, "queries still unanswered"}};
        {raise, Class, Reason} ->
            erlang:raise(Class, Reason, []);
        {ok, Relup, Ws} ->
            {ok, Relup, Ws};
        {error, _Mod, Reason} ->
            {error, relnif, fastrel_errors:refine_relup(Reason)}
    end.

answer({re, Subject, Re}) ->
    try re:run(Subject, Re, [unicode, {capture, first, list}]) of
        {match, [Subject]} -> true;
        _ -> false
    catch
        error:badarg -> badarg
    end;
answer({deps, VDs, Roots}) ->
    fastrel_relup_order:components(VDs, Roots);
answer(_) ->
    undefined.

%% systools_relup's done_mk_relup/2, with its crashes on odd option values.
done(Opts, {ok, Relup, Ws}) ->
    WAE = fastrel_opts:relup_opt(warnings_as_errors, Opts),
    Silent = fastrel_opts:relup_opt(silent, Opts),
    Noexec = fastrel_opts:relup_opt(noexec, Opts),
    if WAE andalso Ws =/= [] ->
            error_result(Silent, {error, relnif, {warnings_treated_as_errors, Ws}});
       not Noexec ->
            case write(Relup, Opts) of
                ok -> ok_result(Silent, Relup, Ws);
                Error -> error_result(Silent, Error)
            end;
       true ->
            ok_result(true, Relup, Ws)
    end;
done(Opts, Error) ->
    error_result(fastrel_opts:relup_opt(silent, Opts) orelse fastrel_opts:relup_opt(noexec, Opts), Error).

error_result(true, Error) -> Error;
error_result(false, {error, relnif, Reason}) ->
    io:format("~ts", [fastrel_errors:format_error(Reason)]),
    error.

ok_result(true, Relup, Ws) -> {ok, Relup, relnif, Ws};
ok_result(false, _Relup, Ws) ->
    lists:foreach(fun(W) -> io:format("~ts", [fastrel_errors:format_warning(W)]) end, Ws),
    ok.

write(Relup, Opts) ->
    File = fastrel_opts:relup_file(Opts),
    Args = {fastrel_opts:bin(File), Relup, io:printable_range() =:= unicode, fastrel_opts:otp_major()},
    case decode(relnif:nif_write_relup(term_to_binary(Args))) of
        {ok, ok} -> ok;
        {error, Posix} when is_atom(Posix) -> {error, relnif, {file_problem, {"relup", {open, Posix}}}};
        {error, {unsupported, _}} -> write_here(File, Relup)
    end.

%% For a relup the NIF does not print (a pid, port, reference or fun in a description,
%% or a term nested deeper than the NIF reads): printed here as systools prints it.
write_here(File, Relup) ->
    Text = unicode:characters_to_binary(io_lib:format("%% ~s~n~tp.~n", [epp:encoding_to_string(utf8), Relup])),
    case fastrel_file:write_atomic(File, Text) of
        ok -> ok;
        {error, R} -> {error, relnif, {file_problem, {"relup", {open, R}}}}
    end.

decode(Bin) -> binary_to_term(Bin).
