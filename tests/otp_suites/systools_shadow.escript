#!/usr/bin/env escript
%% SPDX-License-Identifier: Apache-2.0
%%! -noshell
%% systools_shadow.escript OUTDIR — used by scripts/otp_suites.sh. Writes two modules to
%% OUTDIR, for a node whose code path has OUTDIR first (and fastrel's ebin after it):
%%   systools_otp  OTP's own systools, rebuilt from its debug_info under another name;
%%   systools      a stand-in whose make_script/1,2, make_tar/1,2, script2boot/1 and
%%                 make_relup/3,4 are relnif's, every other export forwarded to
%%                 systools_otp. relnif's results name `relnif' where systools names
%%                 `systools_make' (or, for make_relup, `systools_relup' or `systools_rc',
%%                 told apart by the reason); the stand-in maps that back, and nothing else.
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
    Ours = [{make_script, 1}, {make_script, 2}, {make_tar, 1}, {make_tar, 2}, {script2boot, 1},
            {make_relup, 3}, {make_relup, 4}],
    Src = ["-module(systools).\n",
           "-export([", lists:join(",", [io_lib:format("~p/~p", [F, A]) || {F, A} <- Exports]), "]).\n",
           [clause(FA, lists:member(FA, Ours)) || FA <- Exports],
           "map({ok, relnif, W}) -> {ok, systools_make, W};\n",
           "map({error, relnif, R}) -> {error, systools_make, R};\n",
           "map(Other) -> Other.\n",
           "map_relup({ok, Relup, relnif, W}) -> {ok, Relup, systools_relup, W};\n",
           "map_relup({error, relnif, R}) -> {error, relup_mod(R), R};\n",
           "map_relup(Other) -> Other.\n",
           "relup_mod({file_problem, _}) -> systools_relup;\n",
           "relup_mod({no_relup, _, _, _}) -> systools_relup;\n",
           "relup_mod({missing_sasl, _}) -> systools_relup;\n",
           "relup_mod({warnings_treated_as_errors, _}) -> systools_relup;\n",
           "relup_mod(R) ->\n",
           "    Rc = [bad_op_before_point_of_no_return, no_object_code, suspended_not_resumed,\n",
           "          resumed_not_suspended, code_change_not_suspended, start_not_stop, stop_not_start,\n",
           "          no_such_application, removed_application_present, conflicting_versions,\n",
           "          no_such_module, too_many_point_of_no_return, bad_instruction, bad_module,\n",
           "          bad_code_change, bad_change, bad_mod_type, bad_purge_method, bad_list,\n",
           "          bad_args_list, bad_node, bad_application, bad_func, bad_lib, bad_lib_vsn,\n",
           "          bad_timeout, undef_module, muldef_module, not_yet_implemented, bad_start_type,\n",
           "          bad_mode],\n",
           "    Tag = if is_tuple(R), tuple_size(R) > 0 -> element(1, R); true -> R end,\n",
           "    case lists:member(Tag, Rc) of true -> systools_rc; false -> systools_make end.\n"],
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
        true when F =:= make_relup -> io_lib:format("~p(~s) -> map_relup(relnif:~p(~s)).~n", [F, Args, F, Args]);
        true -> io_lib:format("~p(~s) -> map(relnif:~p(~s)).~n", [F, Args, F, Args]);
        false -> io_lib:format("~p(~s) -> systools_otp:~p(~s).~n", [F, Args, F, Args])
    end.
