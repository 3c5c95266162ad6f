%% SPDX-License-Identifier: Apache-2.0
%% Issue 13: inputs on which relnif or the fastrel escript raised, aborted the VM or died
%% by a signal. Each test states what systools does with the same input: where systools
%% returns an error, relnif returns `{error, relnif, _}'; where systools raises for a bad
%% option list, relnif raises the same exception.
-module(relnif_hardening_tests).

-include_lib("eunit/include/eunit.hrl").

scratch() -> fastrel_os:scratch("relnif_hardening_tests").

vsn(A) ->
    _ = application:load(A),
    {ok, V} = application:get_key(A, vsn),
    V.

%% A release of kernel, stdlib, sasl and an empty `myapp', its boot file made by systools,
%% in a scratch directory that is the cwd during Fun.
with_release(Fun) ->
    {ok, Cwd} = file:get_cwd(),
    Dir = scratch(),
    Ebin = filename:join(Dir, "lib/myapp-1.0/ebin"),
    ok = filelib:ensure_path(Ebin),
    ok = file:write_file(filename:join(Ebin, "myapp.app"), io_lib:format("~tp.~n", [
        {application, myapp, [{description, "t"}, {vsn, "1.0"}, {modules, []},
                              {registered, []}, {applications, [kernel, stdlib]}]}])),
    Rel = {release, {"myrel", "1.0.0"}, {erts, erlang:system_info(version)},
           [{kernel, vsn(kernel)}, {stdlib, vsn(stdlib)}, {sasl, vsn(sasl)}, {myapp, "1.0"}]},
    ok = file:write_file(filename:join(Dir, "myrel.rel"), io_lib:format("~tp.~n", [Rel])),
    ok = file:set_cwd(Dir),
    try
        {ok, systools_make, _} = systools:make_script("myrel", [silent, {path, ["lib/*/ebin"]}]),
        [ok = filelib:ensure_path(D) || D <- ["sys", "rn"]],
        Fun(Dir)
    after
        ok = file:set_cwd(Cwd)
    end.

tar(Opts) -> relnif:make_tar("myrel", [silent, {path, ["lib/*/ebin"]}, {outdir, "rn"} | Opts]).
systools_tar() -> systools:make_tar("myrel", [silent, {path, ["lib/*/ebin"]}, {outdir, "sys"}]).

%%% ------------------------------------------------ 1. sys.config / relup that is not text

%% Invalid UTF-8 in the first term: file:consult/1 returns an error and systools reports
%% it; relnif gives the same term and text.
binary_sys_config_is_systools_error_test() ->
    with_release(fun(_) ->
        ok = file:write_file("sys.config", <<"[{a,", 16#ff, 16#fe, "}].\n">>),
        {error, systools_make, E} = systools_tar(),
        ?assertEqual({tar_error, {add, "sys.config", [{error, {1, file_io_server, invalid_unicode}}]}}, E),
        ?assertEqual({error, relnif, E}, tar([])),
        ?assertEqual(lists:flatten(systools_make:format_error(E)), relnif:format_error(E)),
        ?assertEqual({ok, []}, file:list_dir("rn"))
    end).

%% Invalid UTF-8 after a good term: file:consult/1 itself raises
%% `{case_clause, {error, tokens}}' (OTP 25, 26), which systools returns as its error with
%% the stack trace. relnif raised it; now it gives the error file:consult gives for invalid
%% UTF-8 in the first term, on the line of the bad bytes, and its text names the file.
binary_after_a_term_is_an_error_naming_the_file_test() ->
    with_release(fun(_) ->
        Bad = <<"\n", 16#ff, 16#00, 16#c3, "garbage\n">>,
        ok = file:write_file("sys.config", <<"[{a, []}].", Bad/binary>>),
        Sys = systools_tar(),
        ?assertMatch({error, systools_make, _}, Sys),
        Expect = {tar_error, {add, "sys.config", [{error, {2, file_io_server, invalid_unicode}}]}},
        ?assertEqual({error, relnif, Expect}, tar([])),
        Text = relnif:format_error(Expect),
        ?assertMatch("Cannot add file sys.config to tar file" ++ _, Text),
        ?assertEqual({ok, []}, file:list_dir("rn")),
        ok = file:write_file("sys.config", "[{a, []}].\n"),
        ok = file:write_file("relup", <<"{\"1.0.0\", [], []}.", Bad/binary>>),
        ?assertEqual({error, relnif, {tar_error, {add, "relup", [{error, {2, file_io_server, invalid_unicode}}]}}},
                     tar([])),
        ?assertEqual({ok, []}, file:list_dir("rn"))
    end).

%%% ------------------------------------------------ 2. huge binary literals on the error path

%% 2^40 bits: 128 GiB, an allocation that fails outright (no memory is touched) and aborts
%% the VM with `binary_alloc: Cannot allocate' in erl_parse:parse_term/1 — as systools
%% does with these files. The Rust reader refuses such literals; the re-read of the file on
%% relnif's error path must not build them either. Each case runs in a VM of its own so an
%% abort is that VM dying.
-define(HUGE, "<<0:1099511627776>>").

huge_binary_literals_do_not_abort_the_vm_test_() ->
    {timeout, 120, fun() ->
        Dir = scratch(),
        W = fun(F, Text) -> ok = file:write_file(filename:join(Dir, F), Text) end,
        W("rel1.rel", "{release, {\"r\", \"1\"}, {erts, " ?HUGE "}, []}.\n"),
        %% Bit syntax the bound must see through: parentheses, a unit, a string segment.
        W("rel2.rel", "{release, {\"r\", \"1\"}, {erts, <<0:(4294967296)/unit:256>>}, []}.\n"),
        W("rel3.rel", "{release, {\"r\", \"1\"}, {erts, <<\"abcdefgh\":4294967296>>}, []}.\n"),
        W("boot.script", "{script, {\"r\", \"1\"}, [" ?HUGE "]}.\n"),
        W("rel4.rel", "{release, {\"r\", \"1\"}, {erts, \"1\"}, []}.\n"),
        with_release(fun(RelDir) ->
            ok = file:write_file("sys.config", "[{a, []}].\n{" ?HUGE "}.\n"),
            Calls = [{Dir, "relnif:make_script(\"rel1\", [silent])", "rel1.rel:1: bad term"},
                     {Dir, "relnif:make_script(\"rel2\", [silent])", "rel2.rel:1: bad term"},
                     {Dir, "relnif:make_script(\"rel3\", [silent])", "rel3.rel:1: bad term"},
                     {Dir, "relnif:script2boot_silent(\"boot\")", "boot.script:1: bad term"},
                     {RelDir, "relnif:make_tar(\"myrel\", [silent, {path, [\"lib/*/ebin\"]}, {outdir, \"rn\"}])",
                      "Cannot add file sys.config to tar file - [{error,{2,fastrel_reader,\"bad term\"}}]"},
                     {Dir, "relnif:make_relup(\"rel4\", [\"rel1\"], [], [silent])", "Could not parse file rel1.rel"}],
            [begin
                 Expr = "R = " ++ Call ++ ", {error, relnif, E} = R, io:put_chars([\"RESULT \", relnif:format_error(E)]), halt(0).",
                 {Status, Out} = other_vm(Cd, Expr),
                 ?assertEqual({0, Call}, {Status, Call}),
                 ?assertMatch({_, Call}, {binary:match(Out, list_to_binary("RESULT " ++ Text)), Call})
             end || {Cd, Call, Text} <- Calls]
        end)
    end}.

%% Runs Expr in a fresh VM with relnif's code and NIF, in Cd; {ExitStatus, Output}.
other_vm(Cd, Expr) ->
    Erl = os:find_executable("erl"),
    ?assertNotEqual(false, Erl),
    {ok, Nif} = relnif:nif_path(),
    Port = open_port({spawn_executable, Erl},
                     [{args, ["-noshell", "-pa", filename:dirname(code:which(relnif)), "-eval", Expr]},
                      {cd, Cd}, exit_status, binary, stderr_to_stdout, use_stdio,
                      {env, [{"FASTREL_NIF_PATH", Nif}, {"ERL_CRASH_DUMP_SECONDS", "0"}]}]),
    collect(Port, <<>>).

%% The port's output until it exits: {ExitStatus, Output}; a minute at most.
collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, <<Acc/binary, D/binary>>);
        {Port, {exit_status, S}} -> {S, Acc}
    after 60000 ->
        port_close(Port),
        error({timeout, Acc})
    end.
