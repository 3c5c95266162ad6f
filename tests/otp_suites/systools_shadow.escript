#!/usr/bin/env escript
%% SPDX-License-Identifier: Apache-2.0
%%! -noshell
%% systools_shadow.escript OUTDIR — used by scripts/otp_suites.sh. Writes two modules to
%% OUTDIR, for a node whose code path has OUTDIR first (and fastrel's ebin after it):
%%   systools_otp  OTP's own systools, rebuilt from its debug_info under another name;
%%   systools      a stand-in whose make_script/1,2, make_tar/1,2 and script2boot/1 are
%%                 relnif's, every other export forwarded to systools_otp. relnif's results
%%                 name `relnif' where systools names `systools_make'; the stand-in maps
%%                 that back, and nothing else.
%% Must run on the OTP whose systools it shadows (the exports differ between releases).
main([OutDir]) ->
    ok = filelib:ensure_path(OutDir),
    Beam = code:which(systools),
    {ok, {systools, [{debug_info, {debug_info_v1, Backend, Data}}]}} =
        beam_lib:chunks(Beam, [debug_info]),
    {ok, Forms0} = Backend:debug_info(erlang_v1, systools, Data, []),
    Forms = [case F of
                 {attribute, A, module, systools} -> {attribute, A, module, systools_otp};
                 _ -> F
             end || F <- Forms0],
    {ok, systools_otp, OtpBin} = compile:forms(Forms, [binary, return_errors]),
    ok = file:write_file(filename:join(OutDir, "systools_otp.beam"), OtpBin),
    {module, systools_otp} = code:load_binary(systools_otp, "systools_otp.beam", OtpBin),
    Exports = [FA || {F, _} = FA <- systools_otp:module_info(exports), F =/= module_info],
    Ours = [{make_script, 1}, {make_script, 2}, {make_tar, 1}, {make_tar, 2}, {script2boot, 1}],
    Src = ["-module(systools).\n",
           "-export([", lists:join(",", [io_lib:format("~p/~p", [F, A]) || {F, A} <- Exports]), "]).\n",
           [clause(FA, lists:member(FA, Ours)) || FA <- Exports],
           "map({ok, relnif, W}) -> {ok, systools_make, W};\n",
           "map({error, relnif, R}) -> {error, systools_make, R};\n",
           "map(Other) -> Other.\n"],
    File = filename:join(OutDir, "systools.erl"),
    ok = file:write_file(File, Src),
    {ok, systools} = compile:file(File, [{outdir, OutDir}, return_errors, nowarn_unused_function]),
    io:format("    systools stand-in: relnif for ~w, OTP's for ~w~n",
              [[FA || FA <- Exports, lists:member(FA, Ours)],
               [FA || FA <- Exports, not lists:member(FA, Ours)]]);
main(_) ->
    io:format(standard_error, "usage: systools_shadow.escript OUTDIR~n", []),
    halt(2).

clause({F, A}, Relnif) ->
    Args = lists:join(", ", ["A" ++ integer_to_list(I) || I <- lists:seq(1, A)]),
    case Relnif of
        true -> io_lib:format("~p(~s) -> map(relnif:~p(~s)).~n", [F, Args, F, Args]);
        false -> io_lib:format("~p(~s) -> systools_otp:~p(~s).~n", [F, Args, F, Args])
    end.
